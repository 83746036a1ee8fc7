/**
 * Long tasks in containers, on the local runtime (DynamoDB Local, the SQS emulator, the real handlers, each run a
 * child process with a container's contract): the worker claims and hands the run over; the run heartbeats its
 * lease and its message's visibility past both their first windows and is never run twice; it settles and its
 * successor runs. A run killed mid-way (SIGKILL of its process group: no `finally`) is taken over by its message's
 * next delivery and finishes; a run killed on every delivery is recorded as "time limit exceeded" by the
 * dead-letter handler. Each scenario runs over a TypeScript runner and over the same runner written in Python
 * (its `_run_process` in a Python process beside the run, which holds the claim).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Status } from '../../lib/domain/catalog';
import { containerLeaseMs, containerVisibilitySeconds } from '../../lib/domain/compute';
import { ingestTransients } from '../../lib/engine/ingest';
import type { LocalRuntime } from '../../lib/local/runtime';
import { CONTAINER_TEST_DIR, HEARTBEAT_SECONDS, containerRunners, pythonContainerRunners, releaseFile, startedFile } from '../helpers/container-runners';
import { sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

/** Whether a process has gone (or is a zombie no one has reaped yet). */
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

describe.each([
  { language: 'TypeScript', runners: containerRunners, runnersModule: 'test/helpers/container-runners.ts#containerRunners', prints: undefined },
  // What the Python runner prints reaches the run's log.
  { language: 'Python', runners: pythonContainerRunners, runnersModule: 'test/helpers/container-runners.ts#pythonContainerRunners', prints: 'fitting sn-long, attempt 1' },
])('Container runs of a $language runner on the local runtime', ({ runners, runnersModule, prints }) => {
  const dir = mkdtempSync(join(tmpdir(), 'container-runs-'));
  const output: string[] = [];
  let runtime: LocalRuntime;

  const registerOf = async (name: string, task: string) => (await runtime.engine.store.transients.get(name))?.registers[task];
  /** The run of `transient`'s attempt, once it has started: its process id and claim. */
  const started = (transient: string, attempt: number, timeoutMs = 90_000) =>
    waitFor(
      `attempt ${attempt} of Long on ${transient} to start`,
      async () => existsSync(startedFile(dir, transient, attempt)) && (JSON.parse(readFileSync(startedFile(dir, transient, attempt), 'utf8')) as { pid: number; runId: string }),
      timeoutMs,
    );
  /** Kills the process group of the container run of `transient` (the run and its runner's process), as a stopped task. */
  const kill = async (transient: string, runnerPid: number) => {
    const running = runtime.containers?.running().filter((candidate) => candidate.run.transient === transient) ?? [];
    const group = running[0]?.pid;
    if (running.length !== 1 || !group) throw new Error(`expected one container run of ${transient}, found ${running.length}`);
    process.kill(-group, 'SIGKILL');
    await waitFor(`the runner's process ${runnerPid} to die with its run`, async () => gone(runnerPid), 10_000);
  };

  beforeAll(async () => {
    runtime = await startTestRuntime(runners, {
      fixturesDir: fixturesWithTasks(['Long', 'Chained']),
      runnersModule,
      environment: { [CONTAINER_TEST_DIR]: dir },
      onContainerOutput: (line) => output.push(line),
    });
    runtime.run();
    await ingestTransients(runtime.engine, ['sn-long', 'sn-killed', 'sn-doomed'].map((name) => sampleTransient(name)), { announce: true });
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  describe.concurrent('scenarios', () => {
    it('heartbeat past their message visibility and first lease, are never run twice, then settle and chain', async () => {
      const run = await started('sn-long', 1);
      const claimedAt = (await registerOf('sn-long', 'Long'))?.lastModified ?? 0;
      const window = containerVisibilitySeconds(HEARTBEAT_SECONDS) * 1000;
      // Wall time past the visibility the worker gave the message and the lease its claim wrote: only heartbeats hold it.
      await waitFor('the run to outlast its first windows', async () => Date.now() > claimedAt + window + 2 * HEARTBEAT_SECONDS * 1000, window + 30_000);

      const during = await registerOf('sn-long', 'Long');
      expect(during).toMatchObject({ status: Status.Processing, claim: run.runId, attempt: 1 });
      expect(during?.leaseUntil ?? 0).toBeGreaterThan(claimedAt + window);
      expect(existsSync(startedFile(dir, 'sn-long', 2))).toBe(false);

      writeFileSync(releaseFile(dir, 'sn-long'), '');
      await waitFor('Chained to run after Long', async () => (await registerOf('sn-long', 'Chained'))?.status === 'processed', 30_000);
      expect(await registerOf('sn-long', 'Long')).toMatchObject({ status: 'processed', attempt: 1, claim: run.runId });
      expect(await runtime.engine.store.outputs.read('sn-long', 'Long', run.runId)).toEqual({ data: { attempt: 1, pid: run.pid } });
      expect(existsSync(startedFile(dir, 'sn-long', 2))).toBe(false);
      if (prints) expect(output).toContain(`[container Long sn-long #1] ${prints}`);
    }, 120_000);

    it('are taken over by the next delivery when killed mid-run, and finish', async () => {
      const first = await started('sn-killed', 1);
      await kill('sn-killed', first.pid);
      writeFileSync(releaseFile(dir, 'sn-killed'), '');

      const second = await started('sn-killed', 2);
      expect(second.runId).not.toBe(first.runId);
      await waitFor('Chained to run after the retried Long', async () => (await registerOf('sn-killed', 'Chained'))?.status === 'processed', 60_000);
      expect(await registerOf('sn-killed', 'Long')).toMatchObject({ status: 'processed', attempt: 2, claim: second.runId });
      // The killed run recorded nothing: no output under its claim.
      expect(await runtime.engine.store.outputs.read('sn-killed', 'Long', first.runId)).toBeUndefined();
    }, 150_000);

    it('are recorded as "time limit exceeded" by the dead-letter handler when killed on every delivery', async () => {
      const maxReceiveCount = runners[0]?.maxReceiveCount ?? 0;
      for (let attempt = 1; attempt <= maxReceiveCount; attempt++) await kill('sn-doomed', (await started('sn-doomed', attempt)).pid);

      const register = await waitFor(
        'the dead-letter handler to record the task',
        async () => {
          const found = await registerOf('sn-doomed', 'Long');
          return found?.status === Status.TimeLimitExceeded && found;
        },
        containerLeaseMs(HEARTBEAT_SECONDS) + containerVisibilitySeconds(HEARTBEAT_SECONDS) * 1000 + 60_000,
      );
      expect(register).toMatchObject({ deadLettered: true, attempt: maxReceiveCount });
      expect(existsSync(startedFile(dir, 'sn-doomed', maxReceiveCount + 1))).toBe(false);
      expect((await registerOf('sn-doomed', 'Chained'))?.status).toBe(Status.NotProcessed);
      // The handler files its dead-letter record after it has recorded the register.
      await waitFor('the dead-letter record of sn-doomed', async () => (await runtime.engine.store.deadLetters.page('Long', 10)).items.some((item) => item.name === 'sn-doomed'), 10_000);
    }, 180_000);
  });
});

describe('Container runs of a runtime that is killed', () => {
  it('stop with the runtime that started them, even when it dies by SIGKILL, as no task outlives its cluster', async () => {
    // Prepare: a runtime in a process of its own, whose container run of Long waits for a release that never comes
    const dir = mkdtempSync(join(tmpdir(), 'container-orphans-'));
    const args = [inject('dynamodbEndpoint'), inject('sqsEndpoint'), fixturesWithTasks(['Long', 'Chained']), dir, 'sn-orphan'];
    const runtime = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/container-runtime-process.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: string[] = [];
    for (const stream of [runtime.stdout, runtime.stderr]) stream.on('data', (chunk: Buffer) => printed.push(chunk.toString()));
    let run: { pid: number } | undefined;
    try {
      run = await waitFor('the container run to start', async () => {
        if (runtime.exitCode !== null) throw new Error(`the runtime exited with ${runtime.exitCode}: ${printed.join('')}`);
        return existsSync(startedFile(dir, 'sn-orphan', 1)) && (JSON.parse(readFileSync(startedFile(dir, 'sn-orphan', 1), 'utf8')) as { pid: number });
      }, 90_000);
      const { pid } = run;

      // Act: the runtime dies, running no handler (no `finally`, no `exit` event)
      runtime.kill('SIGKILL');

      // Assess: the run's process goes with it
      await waitFor(`the container run's process ${pid} to stop`, async () => gone(pid), 10_000);
    } finally {
      runtime.kill('SIGKILL');
      // Whatever happened, nothing of the test's is left running (a run is its own process group).
      if (run && !gone(run.pid)) process.kill(-run.pid, 'SIGKILL');
    }
  }, 120_000);
});
