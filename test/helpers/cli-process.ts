/**
 * The project's CLI (or any command) as a user's shell runs it: its own process group, so that a test can signal the
 * whole of it as a terminal's Ctrl-C does, with colour off; and `start --keep-running` brought up on an endpoints
 * file of the test's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { waitFor } from './local-stack';

export interface Run {
  readonly child: ChildProcess;
  /** stdout and stderr as they came, interleaved. */
  readonly output: () => string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code, once its output is all read; null when a signal ended it. */
  readonly exit: Promise<number | null>;
}

/** What a command printed and how it ended. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts a command in its own process group. */
export const launch = (command: readonly string[], env: Record<string, string> = {}): Run => {
  const [file = '', ...args] = command;
  const child = spawn(file, args, { detached: true, env: { ...process.env, NO_COLOR: '1', ...env } });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exit };
};

/** Starts the CLI (bin/cli.ts) with these arguments. */
export const cli = (args: readonly string[], env: Record<string, string> = {}): Run => launch([process.execPath, '--import', 'tsx', 'bin/cli.ts', ...args], env);

/** Runs a started command to its end. */
export const finish = async (run: Run): Promise<Result> => {
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
};

/** Runs the CLI to its end. */
export const runCli = (args: readonly string[], env: Record<string, string> = {}): Promise<Result> => finish(cli(args, env));

export const lines = (text: string): string[] => text.trimEnd().split('\n');

/**
 * Waits until a `start --keep-running` run has written its endpoints file (it writes it whole, by a rename, once
 * everything is up), and returns what the file says. Fails with the run's output if the run ended first.
 */
export const endpointsOf = async <T>(run: Run, stateFile: string, timeoutMs = 200_000): Promise<T> => {
  await waitFor('the local runtime to come up', async () => existsSync(stateFile) || run.child.exitCode !== null, timeoutMs);
  expect(existsSync(stateFile), run.output()).toBe(true);
  return JSON.parse(readFileSync(stateFile, 'utf8')) as T;
};

/**
 * Signals a started command's whole process group; nothing when it never started or is gone (without a pid, `-0`
 * would be this process's own group: the test runner itself).
 */
export const signalGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Nothing of it left.
  }
};

/** Stops a run as Ctrl-C in its terminal does (SIGINT to its process group) and waits for its end. */
export const interrupt = async (run: Run): Promise<number | null> => {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return run.exit;
  signalGroup(run.child, 'SIGINT');
  return run.exit;
};

/**
 * Waits for a run's end, at most `ms` (under the test's own timeout, which would show nothing); past that, kills its
 * whole group and fails with what it printed.
 */
export const endWithin = async (run: Run, ms: number): Promise<number | null> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const ended = await Promise.race([run.exit, late]);
  clearTimeout(timer);
  if (ended !== 'late') return ended;
  signalGroup(run.child, 'SIGKILL');
  throw new Error(`it did not end within ${ms / 1000} s; what it printed:\n${run.output()}`);
};
