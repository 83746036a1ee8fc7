/** Small statistics for the benchmark's samples. */

/** The p-th percentile (0–100) by linear interpolation between closest ranks; NaN for no samples. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] ?? Number.NaN;
  const highValue = sorted[high] ?? lowValue;
  return lowValue + (highValue - lowValue) * (rank - low);
};

/** A completion: `count` executions acknowledged `at` ms after the run started. */
export interface Completion {
  readonly at: number;
  readonly count: number;
}

/**
 * Executions per second between the moments `from` and `to` (fractions of the total) of them had
 * completed: the steady middle of a run, without the ramp-up of the first tick and the tail of the last chains.
 */
export const steadyRate = (completions: readonly Completion[], from = 0.1, to = 0.9): number => {
  const sorted = [...completions].sort((a, b) => a.at - b.at);
  const total = sorted.reduce((sum, completion) => sum + completion.count, 0);
  if (total === 0) return 0;
  let done = 0;
  let start: { at: number; done: number } | undefined;
  for (const completion of sorted) {
    done += completion.count;
    if (!start && done >= total * from) start = { at: completion.at, done };
    if (start && done >= total * to) {
      const seconds = (completion.at - start.at) / 1000;
      return seconds > 0 ? (done - start.done) / seconds : Number.NaN;
    }
  }
  return Number.NaN;
};

export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
