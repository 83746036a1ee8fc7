/**
 * The local runtime's stand-in for Lambda running the Python runners' functions: an HTTP endpoint that answers
 * Lambda's Invoke (AWS_ENDPOINT_URL_LAMBDA), so the worker calls it through the same SDK client as in AWS, and
 * behind it the functions' handler (python/blast_tasks/lambda_handler.py) in Python processes, one event at a
 * time each (python/blast_tasks/serve.py), as many as the runner's concurrency. As Lambda does, a run past the
 * runner's timeout is stopped (its process killed) and reported as `Sandbox.Timedout`, and a process that dies
 * is reported as `Runtime.ExitError`; what the runner prints goes to the log.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { type ServerResponse, createServer } from 'node:http';
import { text } from 'node:stream/consumers';
import { createInterface } from 'node:readline';
import type { PythonTransientRunner } from '../runner';
import { slug } from '../queue/queue-settings';
import { FUNCTION_TIMED_OUT } from '../engine/runner-functions';
import { keepIdleConnections } from './idle-connections';
import { pythonEnvironment, pythonExecutable } from '../python/interpreter';

export interface PythonFunctions {
  /** The Invoke endpoint, for AWS_ENDPOINT_URL_LAMBDA. */
  readonly endpoint: string;
  /** Task → function name, for RUNNER_FUNCTIONS. */
  readonly functionNames: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** One function: the handler's environment (BLAST_RUNNER_FILE and _CLASS, the import path), its limits, a label for its log lines. */
export interface PythonFunctionSpec {
  readonly name: string;
  readonly label: string;
  readonly environment: NodeJS.ProcessEnv;
  /** Where the process runs (Lambda: the unpacked asset). @default this process's */
  readonly cwd?: string;
  readonly timeoutSeconds: number;
  /** Processes at most, as Lambda's concurrency. */
  readonly maxConcurrency: number;
}

interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
}
type Reply = { readonly result: unknown } | { readonly error: FunctionError };
type Line = Reply & { readonly id?: number };

/** One Python process of a function (in a process group of its own, with whatever it starts), answering one event at a time. */
class Sandbox {
  private readonly child: ChildProcessWithoutNullStreams;
  private pending?: { readonly id: number; readonly settle: (reply: Reply) => void };
  private nextId = 0;
  exited = false;

  constructor(spec: PythonFunctionSpec, log: (line: string) => void) {
    this.child = spawn(pythonExecutable(), ['-m', 'blast_tasks.serve'], {
      env: spec.environment,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    // A process that died takes its pipe with it: the write fails, and `exit` reports it.
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      const pending = this.pending;
      let line: Line | undefined;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        line = undefined;
      }
      if (!pending || line?.id !== pending.id) {
        // Not the reply to the event in hand: nothing this process says can be trusted any more.
        this.kill();
        pending?.settle({ error: { errorType: 'Runtime.InvalidResponse', errorMessage: `not the reply to the event: ${text.slice(0, 200)}` } });
        this.pending = undefined;
        return;
      }
      this.pending = undefined;
      pending.settle(line);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => log(`[${spec.label}] ${line}`));
    const gone = (reason: string) => {
      this.exited = true;
      const pending = this.pending;
      this.pending = undefined;
      pending?.settle({ error: { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited: ${reason}` } });
    };
    this.child.on('exit', (code, signal) => gone(signal ? `signal ${signal}` : `exit status ${code}`));
    this.child.on('error', (error: NodeJS.ErrnoException) =>
      gone(error.code === 'ENOENT' ? `Python 3 was not found ("${pythonExecutable()}"); the Python runners cannot run` : error.message),
    );
  }

  /** Runs one event; stops the process (and what it started) and reports a timeout when it takes longer than `timeoutSeconds`. */
  run(event: unknown, timeoutSeconds: number): Promise<Reply> {
    if (this.exited) return Promise.resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited before the event' } });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        resolve({ error: { errorType: FUNCTION_TIMED_OUT, errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds` } });
      }, timeoutSeconds * 1_000);
      this.pending = {
        id,
        settle: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
      };
      this.child.stdin.write(`${JSON.stringify({ id, event })}\n`);
    });
  }

  kill(): void {
    this.exited = true;
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** A function's sandboxes: an idle one is reused, a new one started up to the runner's concurrency, else the call waits. */
class PythonFunction {
  private readonly idle: Sandbox[] = [];
  private readonly all = new Set<Sandbox>();
  private readonly waiting: ((sandbox: Sandbox | undefined) => void)[] = [];

  constructor(
    readonly spec: PythonFunctionSpec,
    private readonly log: (line: string) => void,
  ) {}

  private stopped = false;

  private acquire(): Promise<Sandbox | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    let ready = this.idle.pop();
    // One that died while idle is dropped, not handed a run.
    while (ready?.exited) {
      this.all.delete(ready);
      ready = this.idle.pop();
    }
    if (ready) return Promise.resolve(ready);
    if (this.all.size < this.spec.maxConcurrency) {
      const sandbox = new Sandbox(this.spec, this.log);
      this.all.add(sandbox);
      return Promise.resolve(sandbox);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(sandbox: Sandbox): void {
    if (sandbox.exited) {
      this.all.delete(sandbox);
      const next = this.waiting.shift();
      if (next) void this.acquire().then(next);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(sandbox);
    else this.idle.push(sandbox);
  }

  async invoke(event: unknown): Promise<Reply> {
    const sandbox = await this.acquire();
    if (!sandbox) return { error: { errorType: 'Runtime.Stopped', errorMessage: 'the local runtime is stopping' } };
    try {
      return await sandbox.run(event, this.spec.timeoutSeconds);
    } finally {
      this.release(sandbox);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const sandbox of this.all) sandbox.kill();
    for (const waiter of this.waiting.splice(0)) waiter(undefined);
  }
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Serves Lambda's Invoke for these functions, each by its name. */
export const servePythonFunctions = async (specs: readonly PythonFunctionSpec[], log: (line: string) => void): Promise<{ readonly endpoint: string; stop(): Promise<void> }> => {
  const functions = new Map(specs.map((spec) => [spec.name, new PythonFunction(spec, log)]));
  const answer = (response: ServerResponse, status: number, payload: unknown, functionError?: string) => {
    response.writeHead(status, { 'content-type': 'application/json', ...(functionError ? { 'x-amz-function-error': functionError } : {}) });
    response.end(JSON.stringify(payload));
  };
  const server = createServer((request, response) => {
    void (async () => {
      const match = INVOKE_PATH.exec(new URL(request.url ?? '/', 'http://local').pathname);
      // Lambda takes a function's name or its ARN.
      const named = match?.[1] ? decodeURIComponent(match[1]).split(':function:').pop() : undefined;
      const fn = named ? functions.get(named) : undefined;
      if (request.method !== 'POST' || !fn) {
        answer(response, 404, { Type: 'User', message: `Function not found: ${request.url ?? ''}` });
        return;
      }
      let event: unknown;
      try {
        event = JSON.parse((await text(request)) || 'null');
      } catch {
        answer(response, 400, { Type: 'User', message: 'Could not parse request body into json' });
        return;
      }
      const reply = await fn.invoke(event);
      if ('error' in reply) answer(response, 200, reply.error, 'Unhandled');
      else answer(response, 200, reply.result);
    })().catch((error: unknown) => answer(response, 500, { message: String(error) }));
  });
  // A worker's Invoke is sent once; what forwards it here (the IAM contract's proxy) pools its connections.
  keepIdleConnections(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      for (const fn of functions.values()) fn.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Says, in one line, when there is no Python to run these functions. */
export const warnIfNoPython = (runs: string, log: (line: string) => void): void => {
  const found = spawnSync(pythonExecutable(), ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) log(`! Python 3 was not found ("${pythonExecutable()}"): ${runs} fail every run; the TypeScript runners run`);
};

/**
 * Starts the stand-in for these Python runners' functions, each named `python-<task slug>`, run from this project's
 * sources, with `environment` set as the stack sets their functions' (ARTIFACT_LOCATION).
 */
export const startPythonFunctions = async (
  runners: readonly PythonTransientRunner[],
  log: (line: string) => void,
  environment: Readonly<Record<string, string>> = {},
): Promise<PythonFunctions> => {
  warnIfNoPython(`the Python runners (${runners.map((runner) => runner.taskName).join(', ')})`, log);
  const specs = runners.map(
    (runner): PythonFunctionSpec => ({
      name: `python-${slug(runner.taskName)}`,
      label: runner.taskName,
      environment: pythonEnvironment({ ...environment, BLAST_RUNNER_FILE: runner.python.file, BLAST_RUNNER_CLASS: runner.python.className }),
      timeoutSeconds: runner.python.timeoutSeconds,
      maxConcurrency: runner.maxConcurrency,
    }),
  );
  const served = await servePythonFunctions(specs, log);
  return {
    endpoint: served.endpoint,
    functionNames: Object.fromEntries(runners.map((runner, index) => [runner.taskName, specs[index]?.name ?? ''])),
    stop: () => served.stop(),
  };
};
