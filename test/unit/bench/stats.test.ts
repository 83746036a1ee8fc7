import { describe, expect, it } from 'vitest';
import { percentile, steadyRate } from '../../../bench/stats';

describe('Function: percentile', () => {
  it.each([
    [50, 3],
    [0, 1],
    [100, 5],
    [25, 2],
    [90, 4.6],
  ])('p%d of 1..5 is %d', (p, expected) => {
    expect(percentile([5, 1, 4, 2, 3], p)).toBeCloseTo(expected);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('Function: steadyRate', () => {
  it('measures between 10% and 90% of the executions, leaving out a slow start and tail', () => {
    // Prepare: 10 executions in the first 5 s, then 10 a second for 8 s, then 10 more over 10 s.
    const completions = [
      { at: 5_000, count: 10 },
      ...Array.from({ length: 8 }, (_, second) => ({ at: 6_000 + second * 1_000, count: 10 })),
      { at: 23_000, count: 10 },
    ];

    // Act
    const rate = steadyRate(completions);

    // Assess: from 10 done at 5 s to 90 done at 13 s
    expect(rate).toBeCloseTo(80 / 8);
  });

  it('is 0 when nothing completed', () => {
    expect(steadyRate([])).toBe(0);
  });
});
