/**
 * Bundled with esbuild and run by plain Node, as Lambda runs the dispatcher: invokes the real dispatcher
 * handler until the task's ready backlog is drained, and reports the process's memory: its resident set
 * once loaded, and its peak (the kernel's high-water mark, which no sampling can miss).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { handler } from '../functions/dispatcher';
import { lambdaContext } from '../lib/local/lambda-context';
import { dispatcherSettings } from '../lib/settings/framework-functions';

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

const dispatchResult = z.looseObject({ dispatched: z.number(), itemsRead: z.number(), truncated: z.boolean(), skipped: z.boolean() });
const loadedRssMb = megabytes(process.memoryUsage.rss());
let sampledPeakRssMb = loadedRssMb;
const sampler = setInterval(() => (sampledPeakRssMb = Math.max(sampledPeakRssMb, megabytes(process.memoryUsage.rss()))), 10);

const started = Date.now();
let dispatched = 0;
let itemsRead = 0;
let invocations = 0;
while (dispatched < expected) {
  const result = dispatchResult.parse(await handler({ task }, lambdaContext('dispatcher', dispatcherSettings.timeoutSeconds * 1000, dispatcherSettings.memorySize)));
  invocations++;
  dispatched += result.dispatched;
  itemsRead += result.itemsRead;
  if (result.dispatched === 0 && !result.truncated && !result.skipped) break;
}
clearInterval(sampler);
sampledPeakRssMb = Math.max(sampledPeakRssMb, megabytes(process.memoryUsage.rss()));
process.send?.(
  { loadedRssMb, peakRssMb: highWaterMark() ?? sampledPeakRssMb, sampledPeakRssMb, dispatched, itemsRead, invocations, ms: Date.now() - started },
  () => process.exit(0),
);
