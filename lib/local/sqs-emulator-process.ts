/**
 * Child process running the SQS emulator (local-aws-sqs) on the port given as argument. It tells its parent
 * when it listens and exits when the parent goes away, so no emulator outlives the runtime.
 */
import { createSqsServer } from 'local-aws-sqs';

const port = Number(process.argv[2]);
const server = await createSqsServer({
  port,
  hostname: '127.0.0.1',
  // Queues are created and deleted freely by tests; AWS's 60 s wait after a deletion would only slow them.
  emulateQueueCreationLifecycle: false,
});
process.send?.('ready');
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
