/**
 * The handlers write JSON logs and EMF metrics to stdout, and warnings and errors to stderr, as in Lambda
 * (where CloudWatch collects both). Locally they go to a file instead, so that the progress display stays
 * readable.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const divert = (stream: NodeJS.WriteStream, file: string): (() => void) => {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('{')) {
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return original(chunk, ...(rest as []));
  }) as typeof stream.write;
  return () => {
    stream.write = original;
  };
};

export const redirectJsonLogs = (file: string): (() => void) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  const restore = [divert(process.stdout, file), divert(process.stderr, file)];
  return () => restore.forEach((undo) => undo());
};
