/**
 * Child process running the S3 emulator (s3rver, the 20minutes fork that keeps up with Node 20) on a free
 * loopback port, storing objects in the directory given as first argument. It accepts the access keys given
 * as second argument (a JSON list; the functions' own, one per function), tells its parent its port, and
 * exits when the parent goes away.
 *
 * Two things of s3rver's on this machine: it checks SigV4 signatures against its own canonical request,
 * which differs from the current SDK's (and the recording proxy in front rewrites Host), so mismatched
 * signatures are allowed; and it encrypts continuation tokens with DES, which Node 17+ only offers under
 * OpenSSL's legacy provider (s3-emulator.ts starts this process with it), so listings longer than a page work.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package has no types; these are the parts used here.
interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverServer;
const S3rver = require('@20minutes/s3rver') as S3rverClass;
// s3rver knows one hard-wired account; the functions' keys are added to it (its own module, no public API).
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };

const [directory = '', keys = '[]'] = process.argv.slice(2);
for (const accessKeyId of JSON.parse(keys) as string[]) DUMMY_ACCOUNT.createKeyPair(accessKeyId, 'local');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, allowMismatchedSignatures: true, vhostBuckets: false });
const { port } = await server.run();
process.send?.({ port });
const stop = () => {
  void server.close().finally(() => process.exit(0));
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
