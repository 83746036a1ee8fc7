/** The local runtimes' environment on their process: set while they run, put back however they stop. */
import { afterEach, describe, expect, it } from 'vitest';
import { applyEnvironment } from '../../lib/local/process-environment';

const KEYS = ['BLAST_TEST_SHARED', 'BLAST_TEST_OWN_A', 'BLAST_TEST_OWN_B', 'BLAST_TEST_PRESET'];
const snapshot = () => Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));

describe('The runtimes’ process environment', () => {
  afterEach(() => {
    for (const key of KEYS) delete process.env[key];
  });

  it.each([
    { order: 'the first started stops first', stops: ['a', 'b'] as const },
    { order: 'the last started stops first', stops: ['b', 'a'] as const },
  ])('keeps the running one’s values and then the process’s own when $order', ({ stops }) => {
    // Prepare: the process's own value of one variable; two runtimes setting some variables alike and some apart
    process.env.BLAST_TEST_PRESET = 'own';
    const before = snapshot();
    const a = applyEnvironment({ BLAST_TEST_SHARED: 'same', BLAST_TEST_OWN_A: 'a', BLAST_TEST_PRESET: 'a' });
    const b = applyEnvironment({ BLAST_TEST_SHARED: 'same', BLAST_TEST_OWN_B: 'b', BLAST_TEST_PRESET: 'b' });
    const leases = { a, b };
    const both = snapshot();

    // Act
    leases[stops[0]].release();
    const one = snapshot();
    leases[stops[1]].release();
    leases[stops[1]].release();

    // Assess
    expect(both).toEqual({ BLAST_TEST_SHARED: 'same', BLAST_TEST_OWN_A: 'a', BLAST_TEST_OWN_B: 'b', BLAST_TEST_PRESET: 'b' });
    const remaining = stops[1];
    expect(one).toEqual({
      BLAST_TEST_SHARED: 'same',
      BLAST_TEST_OWN_A: remaining === 'a' ? 'a' : undefined,
      BLAST_TEST_OWN_B: remaining === 'b' ? 'b' : undefined,
      BLAST_TEST_PRESET: remaining,
    });
    expect(snapshot()).toEqual(before);
  });
});
