/**
 * Runs a bundled function in its own child process (test/helpers/function-host-process.ts) with exactly the
 * environment it would have in Lambda, and invokes it over IPC. Its standard output (the JSON log lines and
 * EMF metric documents Lambda would ship to CloudWatch) is kept line by line.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { HostReply, HostRequest } from './function-host-process';

export interface FunctionHostOptions {
  /** The handler module in the asset, e.g. `.../asset.abc/index.mjs`. */
  readonly modulePath: string;
  readonly functionName: string;
  readonly memoryMb: number;
  /** The whole environment of the process. */
  readonly environment: Record<string, string>;
}

export class FunctionInitError extends Error {
  override readonly name = 'FunctionInitError';
}

export class FunctionHost {
  readonly output: string[] = [];
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 0;

  private constructor(private readonly child: ChildProcess, readonly functionName: string) {
    // A sandbox that dies fails what it was running, as Lambda reports a crashed invocation.
    child.on('exit', (code, signal) => {
      for (const waiting of this.pending.values()) waiting.reject(new Error(`${functionName} exited (${signal ?? code}) during an invocation`));
      this.pending.clear();
    });
  }

  static start(options: FunctionHostOptions): Promise<FunctionHost> {
    const child = fork(new URL('./function-host-process.ts', import.meta.url), [options.modulePath, options.functionName, String(options.memoryMb)], {
      execArgv: ['--import', 'tsx'],
      env: options.environment,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const host = new FunctionHost(child, options.functionName);
    let partial = '';
    const collect = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      host.output.push(...lines.filter((line) => line.trim() !== ''));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('message', (reply: HostReply) => host.settle(reply));
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new FunctionInitError(`${options.functionName} exited with ${code} before it was ready:\n${host.output.join('\n')}`)));
      child.once('message', (reply: HostReply) => {
        if (reply.type === 'ready') resolve(host);
        else if (reply.type === 'init-error') reject(new FunctionInitError(`${options.functionName} failed to initialise: ${reply.error}`));
      });
    });
  }

  /** One invocation, resolved with the handler's result or rejected with its error. */
  invoke(event: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const request: HostRequest = { id, event, timeoutMs };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send(request);
    });
  }

  private settle(reply: HostReply) {
    if (!('id' in reply)) return;
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.type === 'result') waiting?.resolve(reply.result);
    else waiting?.reject(new Error(`${this.functionName}: ${reply.error}`));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
