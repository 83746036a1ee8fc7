/**
 * Child process running the SQS emulator (local-aws-sqs) on the port given as argument. It tells its parent
 * when it listens and exits when the parent goes away, so no emulator outlives the runtime.
 */
import { readFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as LocalAwsSqs from 'local-aws-sqs';

/**
 * Corrections to local-aws-sqs 2.0.2, where it differs from SQS in ways the runtime depends on. Each
 * names an expression of its bundle and what replaces it; if the bundle ever changes, loading says so loudly.
 */
const CORRECTIONS: readonly { readonly why: string; readonly from: string; readonly to: string }[] = [
  // It counts a ChangeMessageVisibility as a receive, so every retry backoff would use up two of a message's
  // deliveries and send it to the dead-letter queue early. SQS counts receives only. (The third argument is
  // true only when the call comes from ChangeMessageVisibility.)
  {
    why: 'ChangeMessageVisibility counted as a receive',
    from: 'let n=Number(t.record.attributes.ApproximateReceiveCount)+1;',
    to: 'let n=Number(t.record.attributes.ApproximateReceiveCount)+(i?0:1);',
  },
  // A long poll keeps waiting after its caller has gone, then takes (hides) the next messages for nobody until
  // their visibility timeout. The event source aborts its long polls when it stops, so the request's liveness is
  // passed down to the loop that waits for messages, which gives up once the socket is gone. (Messages taken in
  // the instant before the socket closed are still lost to their visibility timeout, as SQS may lose them too.)
  {
    why: 'a long poll outliving its connection',
    from: 'a=yield this.foundQueue.receive({VisibilityTimeout:e,WaitTimeSeconds:i,MaxNumberOfMessages:r})',
    to: 'a=yield this.foundQueue.receive({VisibilityTimeout:e,WaitTimeSeconds:i,MaxNumberOfMessages:r,Gone:()=>!this.req.socket||this.req.socket.destroyed})',
  },
  {
    why: 'a long poll outliving its connection',
    from: 'function*({VisibilityTimeout:t,WaitTimeSeconds:e,MaxNumberOfMessages:i}){',
    to: 'function*({VisibilityTimeout:t,WaitTimeSeconds:e,MaxNumberOfMessages:i,Gone:gone}){',
  },
  { why: 'a long poll outliving its connection', from: 'return yield l(this,D,Fs).call(this,n,Number(o),Number(t))', to: 'return yield l(this,D,Fs).call(this,n,Number(o),Number(t),gone)' },
  { why: 'a long poll outliving its connection', from: 'Fs=function(t,e,i){', to: 'Fs=function(t,e,i,gone){' },
  {
    why: 'a long poll outliving its connection',
    from: 'c=setInterval(()=>{d++;for(let y of S(this,E))',
    to: 'c=setInterval(()=>{d++;if(gone&&gone()){clearInterval(c),clearTimeout(n),o();return}for(let y of S(this,E))',
  },
  // A receive waits until it has MaxNumberOfMessages or its wait is over. SQS answers as soon as it has
  // messages, even fewer than asked for; so a poller asking for a batch gets the first message at once.
  {
    why: 'a receive holding its messages until the batch is full',
    from: 'if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10),c.unref()',
    to: 'if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}r.length&&(clearInterval(c),clearTimeout(n),o())},10),c.unref()',
  },
];

const loadEmulator = (): typeof LocalAwsSqs => {
  const require = createRequire(import.meta.url);
  const file = require.resolve('local-aws-sqs');
  let source = readFileSync(file, 'utf8');
  for (const { why, from, to } of CORRECTIONS) {
    if (source.split(from).length !== 2) throw new Error(`local-aws-sqs changed: re-check "${why}" before using this version`);
    source = source.replace(from, to);
  }
  const patched = new Module(file) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  patched.filename = file;
  patched.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  patched._compile(source, file);
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
// The parent may have gone while the emulator started, before anyone listened for it.
if (!process.connected) stop();
