/**
 * The handlers write JSON logs and EMF metrics to stdout, as in Lambda (where CloudWatch collects them).
 * Locally they go to a file instead, so that the progress display stays readable.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const redirectJsonLogs = (file: string): (() => void) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('{')) {
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return original(chunk, ...(rest as []));
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
};
