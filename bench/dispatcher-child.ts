/**
 * Bundled with esbuild and run by plain Node, as Lambda runs the dispatcher: invokes the real dispatcher
 * handler until the task's ready backlog is drained, and reports the process's memory: its resident set
 * once loaded, and its peak (the kernel's high-water mark, which no sampling can miss).
 */
import { readFileSync } from 'node:fs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { handler } from '../functions/dispatcher';
import { lambdaContext } from '../lib/local/lambda-context';
import { dispatcherSettings } from '../lib/settings/framework-functions';
import { ENV } from '../lib/settings/config';

const [task = '', expectedText = '0'] = process.argv.slice(2);
const expected = Number(expectedText);
const megabytes = (bytes: number) => bytes / 2 ** 20;
const highWaterMark = (): number | undefined => {
  try {
    const kilobytes = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) / 1024;
  } catch {
    return undefined;
  }
};

const dispatchResult = z.looseObject({ dispatched: z.number(), itemsRead: z.number(), truncated: z.boolean(), skipped: z.boolean(), full: z.boolean() });
const loadedRssMb = megabytes(process.memoryUsage.rss());
let sampledPeakRssMb = loadedRssMb;
const sampler = setInterval(() => (sampledPeakRssMb = Math.max(sampledPeakRssMb, megabytes(process.memoryUsage.rss()))), 10);

/**
 * The runner's part: takes everything the dispatcher sent off the queue, as its workers would, so that the next
 * invocation finds room (the dispatcher sends only what keeps the queue shallow, lib/engine/dispatch.ts).
 */
const queueUrl = (z.record(z.string(), z.string()).parse(JSON.parse(process.env[ENV.queueUrls] ?? '{}')))[task] ?? '';
const sqs = new SQSClient({});
const consume = async () => {
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if (Messages.length === 0) return;
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })) }));
  }
};

const started = Date.now();
let dispatched = 0;
let itemsRead = 0;
let invocations = 0;
while (dispatched < expected) {
  const result = dispatchResult.parse(await handler({ task }, lambdaContext('dispatcher', dispatcherSettings.timeoutSeconds * 1000, dispatcherSettings.memorySize)));
  invocations++;
  dispatched += result.dispatched;
  itemsRead += result.itemsRead;
  if (result.dispatched === 0 && !result.truncated && !result.skipped && !result.full) break;
  await consume();
}
clearInterval(sampler);
sampledPeakRssMb = Math.max(sampledPeakRssMb, megabytes(process.memoryUsage.rss()));
process.send?.(
  { loadedRssMb, peakRssMb: highWaterMark() ?? sampledPeakRssMb, sampledPeakRssMb, dispatched, itemsRead, invocations, ms: Date.now() - started },
  () => process.exit(0),
);
