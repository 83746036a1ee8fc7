/**
 * A stand-in for the AWS CLI in a container of a locally run ECS task (test/helpers/local-task.ts): the one command
 * the task definitions run, `aws s3 cp s3://bucket/key <file>`, done as the CLI does it, with the AWS SDK's S3 client
 * and whatever credentials, region and endpoint (AWS_ENDPOINT_URL_S3) the container's environment holds. The
 * destination's folders are created, and an error is printed and exits 1, as the CLI's does. Anything else the
 * CLI can do is refused (exit 252, the CLI's usage error), so a task definition that needs more fails visibly.
 * The deployment bundles it (with esbuild) into an `aws` executable on the containers' PATH.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

const USAGE_ERROR = 252;

const copy = async (source: string, destination: string): Promise<void> => {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
  if (!match?.[1] || !match[2]) throw new Error(`not an S3 object URL: ${source}`);
  const s3 = new S3Client({});
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    const body = await object.Body?.transformToByteArray();
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(destination, body ?? new Uint8Array());
    process.stdout.write(`download: ${source} to ${destination}\n`);
  } finally {
    s3.destroy();
  }
};

const [service, command, ...rest] = process.argv.slice(2);
if (service !== 's3' || command !== 'cp' || rest.length !== 2 || !rest[0] || !rest[1]) {
  process.stderr.write(`aws (stand-in): only "aws s3 cp s3://bucket/key <file>" is supported, not: aws ${process.argv.slice(2).join(' ')}\n`);
  process.exit(USAGE_ERROR);
}
try {
  await copy(rest[0], rest[1]);
} catch (error) {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`fatal error: An error occurred (${name}) when calling the GetObject operation: ${message}\n`);
  process.exit(1);
}
