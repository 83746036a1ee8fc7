/**
 * Runners written in Python on the local runtime: the engine claims, invokes the runner's function (the same
 * handler Lambda runs, through the local stand-in for Lambda's Invoke) and settles, so a Python runner behaves
 * as a TypeScript one does: its status is recorded and its successors run at once; an exception is retried and
 * then recorded as its failed status with the Python error; an unknown status is recorded as its failed status;
 * a run past its timeout is retried and then recorded as "time limit exceeded"; what it prints reaches the log;
 * it imports numpy, astropy and photutils from the environment made from python/requirements.txt.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestTransients } from '../../lib/engine/ingest';
import type { LocalRuntime } from '../../lib/local/runtime';
import { describePythonRunners } from '../../lib/python/declarations';
import { REQUIREMENTS_LOCK } from '../../lib/python/requirements';
import { PythonTransientRunner } from '../../lib/runner';
import { pythonRunner } from '../../runners/python-runner';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks, startTestRuntime, waitFor } from '../helpers/local-stack';

const dir = mkdtempSync(join(tmpdir(), 'python-runners-'));
const file = join(dir, 'runners.py');
writeFileSync(
  file,
  `import subprocess
import sys
import time
from blast_tasks import NonRetryableTaskError, TransientTaskRunner


class Good(TransientTaskRunner):
    task_name = "PyGood"

    def _prerequisites(self):
        return {"PyGood": "not processed"}

    def _run_process(self, transient):
        print(f"measuring {transient.name} at {transient.ra_deg:.4f}")
        return "processed"


class Chatty(TransientTaskRunner):
    task_name = "PyChatty"

    def _prerequisites(self):
        return {"PyChatty": "not processed"}

    def _run_process(self, transient):
        # Output that bypasses sys.stdout: a subprocess and the original stream both write to file descriptor 1.
        subprocess.run(["echo", f"subprocess progress on {transient.name}"], check=True)
        print("straight to the original stdout", file=sys.__stdout__, flush=True)
        return "processed"


class Raises(TransientTaskRunner):
    task_name = "PyRaises"
    max_receive_count = 2

    def _prerequisites(self):
        return {"PyRaises": "not processed"}

    def _run_process(self, transient):
        raise ValueError(f"no pixels under {transient.name}")


class UnreadableImage(NonRetryableTaskError):
    pass


class GivesUp(TransientTaskRunner):
    task_name = "PyGivesUp"
    max_receive_count = 3

    def _prerequisites(self):
        return {"PyGivesUp": "not processed"}

    def _run_process(self, transient):
        raise UnreadableImage(f"the cutout of {transient.name} is corrupt")


class Invalid(TransientTaskRunner):
    task_name = "PyInvalid"

    def _prerequisites(self):
        return {"PyInvalid": "not processed"}

    def _run_process(self, transient):
        return "nearly done"


class Science(TransientTaskRunner):
    task_name = "PyScience"

    def _prerequisites(self):
        return {"PyScience": "not processed"}

    def _run_process(self, transient):
        # The lock's packages (python/requirements.txt), from the environment the project's scripts made.
        import astropy
        import astropy.units as u
        import numpy as np
        import photutils
        from astropy.coordinates import SkyCoord
        from photutils.aperture import CircularAperture, aperture_photometry

        galactic = SkyCoord(transient.ra_deg * u.deg, transient.dec_deg * u.deg).galactic
        flux = aperture_photometry(np.ones((21, 21)), CircularAperture((10, 10), r=3))["aperture_sum"][0]
        print(f"numpy {np.__version__} astropy {astropy.__version__} photutils {photutils.__version__}")
        print(f"{transient.name}: l {galactic.l.deg:.2f} b {galactic.b.deg:.2f}, flux in r=3 of ones {flux:.4f}")
        return "processed"


class Slow(TransientTaskRunner):
    task_name = "PySlow"
    timeout_seconds = 1
    max_receive_count = 2

    def _prerequisites(self):
        return {"PySlow": "not processed"}

    def _run_process(self, transient):
        time.sleep(30)
        return "processed"
`,
);

const TASKS = ['PyGood', 'PyChatty', 'PyScience', 'PyRaises', 'PyGivesUp', 'PyInvalid', 'PySlow', 'After', 'Cutout download', 'Transient MWEBV'];

describe('Integration: Python runners on the local runtime', () => {
  let runtime: LocalRuntime;
  const printed: string[] = [];

  beforeAll(async () => {
    const pythonRunners = describePythonRunners([file]).map((declared) => new PythonTransientRunner(declared));
    const after = runner('After', { PyGood: 'processed' });
    // The registry's example: Blast's docs' class as written there, after a TypeScript stand-in for its prerequisite.
    const example = pythonRunner('runners/python/example_runner.py', 'ExampleTaskRunner');
    const cutouts = runner('Cutout download', { 'Cutout download': 'not processed' });
    runtime = await startTestRuntime([...pythonRunners, after, cutouts, example], {
      fixturesDir: fixturesWithTasks(TASKS),
      retryBaseSeconds: 0,
      onPythonOutput: (line) => printed.push(line),
    });
    runtime.run();
  }, 60_000);
  afterAll(() => runtime?.stop());

  const registerOf = async (name: string, task: string) => (await runtime.engine.store.transients.get(name))?.registers[task];

  it('records the status its _run_process returns, and its successor (a TypeScript runner) runs at once', async () => {
    // Act
    await ingestTransients(runtime.engine, [sampleTransient('sn-good')], { announce: true });
    const done = await waitFor('After to run after PyGood', async () => {
      const record = await runtime.engine.store.transients.get('sn-good');
      return record?.registers.After?.status === 'processed' && record;
    });

    // Assess
    expect(done.registers.PyGood).toMatchObject({ status: 'processed', attempt: 1 });
    expect(printed).toContain('[PyGood] measuring sn-good at 121.6015');
  });

  it("runs the example class of Blast's docs, as generated into the registry, after its prerequisite", async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-example'), sampleTransient('sn-example-south', { decDeg: -45 })], { announce: true });
    for (const name of ['sn-example', 'sn-example-south']) {
      const register = await waitFor(`the example to run on ${name}`, async () => {
        const found = await registerOf(name, 'Transient MWEBV');
        return found?.status === 'processed' && found;
      });
      expect(register.attempt).toBe(1);
    }
  });

  it("runs a runner that imports numpy, astropy and photutils, at the lock's versions", async () => {
    // Prepare: the versions python/requirements.txt pins
    const lock = readFileSync(REQUIREMENTS_LOCK, 'utf8');
    const pinned = (name: string) => new RegExp(`^${name}==(\\S+)`, 'm').exec(lock)?.[1];

    // Act
    await ingestTransients(runtime.engine, [sampleTransient('sn-science')], { announce: true });
    const register = await waitFor('PyScience to finish', async () => {
      const found = await registerOf('sn-science', 'PyScience');
      return found?.status === 'processed' && found;
    });

    // Assess: π·3² is the sum of ones inside a circle of radius 3
    expect(register.attempt).toBe(1);
    expect(printed).toContain(`[PyScience] numpy ${pinned('numpy')} astropy ${pinned('astropy')} photutils ${pinned('photutils')}`);
    expect(printed).toContain(`[PyScience] sn-science: l 220.77 b 17.11, flux in r=3 of ones ${(Math.PI * 9).toFixed(4)}`);
  });

  it('keeps what a run prints through a subprocess or the original stdout out of its reply, and in the log', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-chatty')], { announce: true });
    const register = await waitFor('PyChatty to finish', async () => {
      const found = await registerOf('sn-chatty', 'PyChatty');
      return found?.status === 'processed' && found;
    });
    expect(register.attempt).toBe(1);
    expect(printed).toEqual(expect.arrayContaining(['[PyChatty] subprocess progress on sn-chatty', '[PyChatty] straight to the original stdout']));
  });

  it('retries a run that raised, then records its failed status with the Python error', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-raises')], { announce: true });
    const register = await waitFor('PyRaises to be recorded as failed', async () => {
      const found = await registerOf('sn-raises', 'PyRaises');
      return found?.status === 'failed' && found;
    });
    expect(register).toMatchObject({ attempt: 2, lastError: expect.stringContaining('ValueError: no pixels under sn-raises') });
  });

  it('records its failed status at once, without retrying, when it raises a NonRetryableTaskError', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-gives-up')], { announce: true });
    const register = await waitFor('PyGivesUp to be recorded as failed', async () => {
      const found = await registerOf('sn-gives-up', 'PyGivesUp');
      return found?.status === 'failed' && found;
    });
    expect(register).toMatchObject({ attempt: 1, lastError: 'NonRetryableTaskError: UnreadableImage: the cutout of sn-gives-up is corrupt' });
  });

  it('records its failed status when it returns a status the fixtures do not have', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-invalid')], { announce: true });
    const register = await waitFor('PyInvalid to be recorded as failed', async () => {
      const found = await registerOf('sn-invalid', 'PyInvalid');
      return found?.status === 'failed' && found;
    });
    expect(register.lastError).toMatch(/returned "nearly done", which is not a success or error status/);
  });

  it('stops a run past its timeout, records nothing, retries it once its lease ends, then records "time limit exceeded"', async () => {
    await ingestTransients(runtime.engine, [sampleTransient('sn-slow')], { announce: true });
    const register = await waitFor(
      'PySlow to be recorded as timed out',
      async () => {
        const found = await registerOf('sn-slow', 'PySlow');
        return found?.status === 'time limit exceeded' && found;
      },
      90_000,
    );
    expect(register).toMatchObject({ attempt: 2, deadLettered: true });
    // Neither run recorded anything; the dead-letter handler did, after the last delivery.
    expect(register.lastError).toBe('no result after 2 deliveries: the run timed out or crashed every time');
  }, 100_000);
});
