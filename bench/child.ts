/** Runs one benchmark step in a child process and returns the one message it sends back over IPC. */
import { fork } from 'node:child_process';
import type { z } from 'zod';

export interface ChildOptions {
  /** Node flags: `['--import', 'tsx']` for TypeScript, none for a bundle. */
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The child's stdout: shown, or dropped (its handlers' JSON logs). @default 'inherit' */
  readonly stdout?: 'inherit' | 'ignore';
  readonly timeoutMs: number;
}

export const runChild = <T>(script: string, args: readonly string[], schema: z.ZodType<T>, options: ChildOptions): Promise<T> =>
  new Promise((resolve, reject) => {
    const child = fork(script, [...args], {
      execArgv: [...(options.execArgv ?? [])],
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
    });
    let message: unknown;
    let received = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('message', (value) => {
      message = value;
      received = true;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!received) {
        reject(new Error(`${script} ${signal ? `was killed (${signal})` : `exited with code ${code}`} before reporting${signal === 'SIGKILL' ? ` (timeout ${options.timeoutMs} ms)` : ''}`));
        return;
      }
      const parsed = schema.safeParse(message);
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`${script} reported something unexpected: ${parsed.error.message}`));
    });
  });
