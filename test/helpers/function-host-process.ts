/**
 * A function's sandbox: a child process with only the function's environment, which loads its bundled
 * asset (the handler module) and runs invocations its parent sends. Like a Lambda execution environment it
 * initialises once, serves many invocations, and reports an init error instead of serving any.
 */
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../lib/local/lambda-context';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export type HostRequest = { readonly id: number; readonly event: unknown; readonly timeoutMs: number };
export type HostReply =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: string }
  | { readonly id: number; readonly type: 'result'; readonly result: unknown }
  | { readonly id: number; readonly type: 'error'; readonly error: string };

const [modulePath = '', functionName = 'function', memory = '512'] = process.argv.slice(2);
const reply = (message: HostReply) => process.send?.(message);

try {
  const loaded = (await import(pathToFileURL(modulePath).href)) as { handler?: unknown };
  if (typeof loaded.handler !== 'function') throw new Error(`${modulePath} exports no handler`);
  const handler = loaded.handler as Handler;
  process.on('message', (request: HostRequest) => {
    handler(request.event, lambdaContext(functionName, request.timeoutMs, Number(memory))).then(
      (result) => reply({ id: request.id, type: 'result', result }),
      (error: unknown) => reply({ id: request.id, type: 'error', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
    );
  });
  reply({ type: 'ready' });
} catch (error) {
  reply({ type: 'init-error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
process.on('disconnect', () => process.exit(0));
