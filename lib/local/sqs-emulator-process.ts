/**
 * Child process running the SQS emulator (local-aws-sqs) on the port given as argument. It tells its parent
 * when it listens and exits when the parent goes away, so no emulator outlives the runtime. The emulator is
 * the one installed with the corrections of patches/ (see sqs-emulator-patch.ts); it refuses to start without.
 */
import { createSqsServer } from 'local-aws-sqs';
import { assertEmulatorPatched } from './sqs-emulator-patch';

assertEmulatorPatched();
const port = Number(process.argv[2]);
const server = await createSqsServer({
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
// The parent may have gone while the emulator started, before anyone listened for it.
if (!process.connected) stop();
