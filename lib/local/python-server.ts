/**
 * A Python container run's runner, here: python/blast_tasks/invoke_server.py in a process beside the run (in its
 * process group, so that killing the run's group kills both), serving the runner's handler behind Lambda's Invoke
 * on a free loopback port, as the Python container of the run's Fargate task serves it on a fixed one
 * (lib/constructs/container-runner.ts). The run calls it through the same client as a worker calls a Python
 * runner's Lambda function (AWS_ENDPOINT_URL_LAMBDA, RUNNER_FUNCTIONS).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { PythonTransientRunner } from '../runner';
import { INVOKE_SERVER_MODULE } from '../python/container-server';
import { pythonEnvironment, pythonExecutable } from '../python/interpreter';

export interface PythonServer {
  /** For AWS_ENDPOINT_URL_LAMBDA. */
  readonly endpoint: string;
  readonly pid: number;
  /** Kills it (synchronously: callable from an `exit` handler). */
  kill(): void;
}

/** Starts the runner's server and resolves once it answers; rejects, with what it printed, if it exits first. */
export const startPythonServer = async (runner: PythonTransientRunner, environment: NodeJS.ProcessEnv = {}): Promise<PythonServer> => {
  const { file, className } = runner.python;
  const child = spawn(pythonExecutable(), ['-m', INVOKE_SERVER_MODULE, '0'], {
    env: pythonEnvironment({ ...environment, BLAST_RUNNER_FILE: file, BLAST_RUNNER_CLASS: className } as Record<string, string>),
    // What the runner prints goes where this process's errors go (the container's log).
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const match = /^listening on (\d+)$/.exec(line);
      if (match?.[1]) resolve(Number(match[1]));
      else reject(new Error(`${INVOKE_SERVER_MODULE} for ${className} (${file}) said "${line}", not where it listens`));
    });
    child.once('error', (error) => reject(new Error(`could not start Python ("${pythonExecutable()}") for ${className} (${file}): ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${INVOKE_SERVER_MODULE} for ${className} (${file}) exited (${signal ?? `status ${code}`}) before it listened`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
};
