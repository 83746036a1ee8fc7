/**
 * Child process running the SQS emulator (local-aws-sqs) on the port given as argument. It tells its parent
 * when it listens and exits when the parent goes away, so no emulator outlives the runtime.
 */
import { readFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as LocalAwsSqs from 'local-aws-sqs';

/**
 * local-aws-sqs 2.0.2 counts a ChangeMessageVisibility as a receive, so every retry backoff would use up
 * two of a message's deliveries and send it to the dead-letter queue early. Real SQS counts receives only.
 * The bundle is loaded with that one expression corrected; if it ever changes, this says so loudly.
 */
const loadEmulator = (): typeof LocalAwsSqs => {
  const require = createRequire(import.meta.url);
  const file = require.resolve('local-aws-sqs');
  const counted = 'let n=Number(t.record.attributes.ApproximateReceiveCount)+1;';
  const source = readFileSync(file, 'utf8');
  if (!source.includes(counted)) {
    throw new Error('local-aws-sqs changed: re-check its ChangeMessageVisibility receive count before using this version');
  }
  const patched = new Module(file) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  patched.filename = file;
  patched.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  // The third argument is true only when the call comes from ChangeMessageVisibility.
  patched._compile(source.replace(counted, 'let n=Number(t.record.attributes.ApproximateReceiveCount)+(i?0:1);'), file);
  return patched.exports as typeof LocalAwsSqs;
};

const port = Number(process.argv[2]);
const server = await loadEmulator().createSqsServer({
  port,
  hostname: '127.0.0.1',
  // Queues are created and deleted freely by tests; AWS's 60 s wait after a deletion would only slow them.
  emulateQueueCreationLifecycle: false,
});
process.send?.('ready');
const stop = () => {
  server.close();
  process.exit(0);
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
