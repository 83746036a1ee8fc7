/**
 * The two lanes work travels in. Live work (ingest, TNS revisions, an operator's retrigger, and everything they
 * make ready) goes first; backfill work (a backfill's resets, and what they make ready) goes after it, so that a
 * backfill over tens of thousands of transients never holds up the fresh ones. A backfill marker that has waited
 * longer than BACKFILL_AGING_MS counts as live, so a backfill always makes progress.
 */
export const Lane = {
  Live: 'live',
  Backfill: 'backfill',
} as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

/** How long a backfill marker waits before it counts as live (aging). */
export const BACKFILL_AGING_MS = 10 * 60_000;

/** 0 for work that goes first (live, or backfill that has aged), 1 for backfill work that goes after it. */
export const laneRank = (lane: Lane | undefined, readyAt: number, now: number, agingMs = BACKFILL_AGING_MS): 0 | 1 =>
  lane === Lane.Backfill && readyAt + agingMs > now ? 1 : 0;
