/**
 * A fault plan: which faults to inject, how often, and on what. Every decision is a hash of the seed and of
 * what the fault would hit (a transient and task and its attempt, an item and its nth call), never of
 * timing, so a seed replays the same faults on the same work.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../domain/errors';
import { MAX_CLOCK_SKEW_MS } from '../domain/time';

/** The faults the engine's own layers inject (the operator's actions and poison messages come from the driver). */
export const Fault = {
  /** The runner throws an ordinary (retryable) error. */
  RunnerThrows: 'runner-throws',
  /** The runner throws NonRetryableTaskError. */
  RunnerGivesUp: 'runner-gives-up',
  /** The runner returns a status that is not in the fixtures. */
  InvalidStatus: 'invalid-status',
  /** The runner runs past its function's timeout. */
  Overrun: 'overrun',
  /**
   * The process dies at a step of a write sequence — before a store or queue call, after it landed, or with it
   * in flight (it lands later) — and its whole invocation with it: no `finally` runs, no lock is released, the
   * function's messages come back after their visibility timeout. Aimed with `step` (e.g. "^after transients\.settle$").
   */
  Kill: 'kill',
  /** SendMessageBatch refuses some entries (reported in `Failed`). */
  PartialSendFailure: 'partial-send-failure',
  /** A message is sent, and so delivered, twice. */
  DuplicateSend: 'duplicate-send',
  /** A message is delayed a few seconds, so it arrives late and out of order. */
  DelayedSend: 'delayed-send',
  /** An AWS call is throttled (ProvisionedThroughputExceededException, ThrottlingException, RequestThrottled). */
  Throttle: 'throttle',
  /** Every attempt of an AWS call is throttled, past the SDK's retry budget: the call fails. */
  ThrottleStorm: 'throttle-storm',
  /** An AWS call is carried out but its response is lost (a timeout): the SDK sends it again. */
  LostResponse: 'lost-response',
  /** Another writer changes a transient just before a version-conditioned write, so its condition check fails. */
  Contention: 'contention',
  /** A transaction is cancelled because another one touched its items at once (TransactionConflict). */
  TransactionConflict: 'transaction-conflict',
  /** ChangeMessageVisibility is refused (the receipt handle expired, or the message is no longer in flight). */
  VisibilityChangeFails: 'visibility-change-fails',
  /** The event source hands the identical batch (same message ids and receive counts) to two invocations at once. */
  DuplicateInvocation: 'duplicate-invocation',
  /** The event source invokes the same batch again after the first invocation returned. */
  RepeatedBatch: 'repeated-batch',
  /** A message's visibility runs out while its run goes on: SQS delivers it again mid-run. */
  VisibilityExpiry: 'visibility-expiry',
} as const;
export type Fault = (typeof Fault)[keyof typeof Fault];
export const faults = Object.values(Fault);

/** The faults the chaos driver brings from outside the handlers (lib/chaos/driver.ts). */
export const OperatorFault = {
  Reprocess: 'reprocess mid-run',
  Retrigger: 'retrigger mid-run',
  Delete: 'delete mid-run',
  Poison: 'poison message',
} as const;
export type OperatorFault = (typeof OperatorFault)[keyof typeof OperatorFault];

/** Faults that end a runner's run; at most one of them hits a run. */
export const runnerFaults = [Fault.RunnerThrows, Fault.RunnerGivesUp, Fault.InvalidStatus, Fault.Overrun] as const;
/** Faults of one entry of a SendMessageBatch; at most one of them hits an entry. */
export const sendFaults = [Fault.PartialSendFailure, Fault.DuplicateSend, Fault.DelayedSend] as const;
/** Faults of one attempt of an AWS call; at most one of them hits an attempt. */
export const callFaults = [Fault.Throttle, Fault.LostResponse] as const;
/** Faults of one AWS call, whatever its attempts; at most one of them hits a call. */
export const wholeCallFaults = [Fault.ThrottleStorm, Fault.TransactionConflict, Fault.VisibilityChangeFails] as const;
/** Faults of the event source (the Lambda SQS event source mapping), decided per message and receive. */
export const eventSourceFaults = [Fault.DuplicateInvocation, Fault.RepeatedBatch, Fault.VisibilityExpiry] as const;

const rate = z.number().min(0).max(1);
const aimedSetting = z.strictObject({
  rate,
  /** Only the first N tries of the same work (delivery attempts, SDK attempts, calls) are hit. */
  firstTries: z.number().int().positive().optional(),
  /** Only tries from the Nth on (e.g. a message's last delivery). */
  fromTry: z.number().int().positive().optional(),
  /** Only work whose subject matches this regular expression: "transient/task", or the transient alone for an item's AWS calls. */
  match: z.string().optional(),
  /** Kills only: only at steps matching this regular expression, e.g. "^after transients\.settle$" ("before"/"after"/"during" and the store or queue call). */
  step: z.string().optional(),
});
/** A rate, an aimed setting, or several aimed settings of which the first whose match and firstTries apply decides. */
const faultSetting = z.union([rate, aimedSetting, z.array(aimedSetting).min(1)]);

export const faultPlanSchema = z.strictObject({
  seed: z.number().int(),
  /** Fault → rate (0–1), or {rate, firstTries, match}, or a list of those. Faults left out are not injected. */
  faults: z.partialRecord(z.enum(faults), faultSetting).default({}),
  /** Appends what happened (runs, claims, completions, resets, faults) to this file, for the invariant checks. */
  journal: z.string().optional(),
  /** Shortens every runner's timeout and the dead-letter handler's (and so their queues' visibility timeouts) to this many seconds. */
  timeoutSeconds: z.number().int().positive().optional(),
  /**
   * Puts each host (each invocation, and the operator) on its own clock, offset by up to half this many
   * milliseconds either way, so that any two differ by at most this much.
   */
  clockSkewMs: z.number().int().nonnegative().optional(),
});
export type FaultPlanInput = z.input<typeof faultPlanSchema>;
export type FaultPlanSpec = z.output<typeof faultPlanSchema>;

/** The mix `npm start -- --chaos SEED` injects: every fault, often enough to be seen in a run of a few hundred tasks. */
export const defaultFaultRates: Readonly<Record<Fault, number>> = {
  [Fault.RunnerThrows]: 0.06,
  [Fault.RunnerGivesUp]: 0.01,
  [Fault.InvalidStatus]: 0.01,
  [Fault.Overrun]: 0.02,
  // Per step: a task's run passes through about eight (claim, output, settle, sends, markers, counters).
  [Fault.Kill]: 0.005,
  [Fault.PartialSendFailure]: 0.05,
  [Fault.DuplicateSend]: 0.05,
  [Fault.DelayedSend]: 0.05,
  [Fault.Throttle]: 0.02,
  [Fault.ThrottleStorm]: 0.003,
  [Fault.LostResponse]: 0.01,
  [Fault.Contention]: 0.5,
  [Fault.TransactionConflict]: 0.1,
  [Fault.VisibilityChangeFails]: 0.2,
  [Fault.DuplicateInvocation]: 0.02,
  [Fault.RepeatedBatch]: 0.02,
  [Fault.VisibilityExpiry]: 0.01,
};

/** The clock skew `npm start -- --chaos SEED` puts between hosts: the engine's tolerance (lib/domain/time.ts). */
export const defaultClockSkewMs = MAX_CLOCK_SKEW_MS;

export const parseFaultPlan = (text: string, source: string): FaultPlanSpec => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${source} must be JSON, e.g. {"seed": 42, "faults": {"throttle": 0.05}}`, { cause });
  }
  const parsed = faultPlanSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'plan'}: ${issue.message}`).join('; ');
    throw new ConfigError(`${source} is not a fault plan: ${issues}`);
  }
  for (const [fault, setting] of Object.entries(parsed.data.faults)) {
    const aimed = typeof setting === 'number' ? [] : [setting].flat();
    aimed.forEach((entry, index) => {
      for (const field of ['match', 'step'] as const) {
        const pattern = entry[field];
        if (pattern === undefined) continue;
        try {
          new RegExp(pattern);
        } catch (cause) {
          const path = Array.isArray(setting) ? `faults.${fault}.${index}.${field}` : `faults.${fault}.${field}`;
          throw new ConfigError(`${source}: ${path} is not a regular expression`, { cause });
        }
      }
    });
  }
  return parsed.data;
};

/** A uniform number in [0, 1) from the seed and the parts that name a decision. */
export const hashUnit = (seed: number, ...parts: readonly (string | number)[]): number =>
  createHash('sha256').update(JSON.stringify([seed, ...parts])).digest().readUInt32BE(0) / 2 ** 32;

export interface Target {
  /** What the fault would hit, e.g. "2010H/Host match" or "UpdateItem T#2010H". */
  readonly key: string;
  /** What the plan's `match` is tested on: "transient/task", or the transient alone; absent if neither is known. */
  readonly subject?: string;
  /** 1 for the first try of this work, 2 for the next, … */
  readonly attempt: number;
  /** For kills: the step, e.g. "after settle". */
  readonly step?: string;
}

interface Setting {
  readonly rate: number;
  readonly firstTries: number;
  readonly fromTry: number;
  readonly match?: RegExp;
  readonly step?: RegExp;
}

export class FaultPlan {
  private readonly settings: ReadonlyMap<Fault, readonly Setting[]>;

  constructor(readonly spec: FaultPlanSpec) {
    this.settings = new Map(
      Object.entries(spec.faults).map(([fault, setting]) => [
        fault as Fault,
        (typeof setting === 'number' ? [{ rate: setting }] : [setting].flat()).map((full: z.infer<typeof aimedSetting>) => ({
          rate: full.rate,
          firstTries: full.firstTries ?? Number.POSITIVE_INFINITY,
          fromTry: full.fromTry ?? 1,
          ...(full.match === undefined ? {} : { match: new RegExp(full.match) }),
          ...(full.step === undefined ? {} : { step: new RegExp(full.step) }),
        })),
      ]),
    );
  }

  get seed(): number {
    return this.spec.seed;
  }

  /** Whether any of these faults may be injected at all (so layers that cannot see them stay out of the way). */
  injects(...candidates: readonly Fault[]): boolean {
    return candidates.some((fault) => (this.settings.get(fault) ?? []).some((setting) => setting.rate > 0));
  }

  /** The first of the fault's settings whose match and firstTries take this target. */
  private applies(fault: Fault, target: Target): Setting | undefined {
    return (this.settings.get(fault) ?? []).find(
      (setting) =>
        setting.rate > 0 &&
        target.attempt <= setting.firstTries &&
        target.attempt >= setting.fromTry &&
        (!setting.match || (target.subject !== undefined && setting.match.test(target.subject))) &&
        (!setting.step || (target.step !== undefined && setting.step.test(target.step))),
    );
  }

  /** The one fault of `group` that hits this target, if any: one draw, split by the faults' rates. */
  choose<F extends Fault>(group: readonly F[], target: Target): F | undefined {
    const draw = hashUnit(this.spec.seed, group.join('|'), target.key, target.attempt);
    let threshold = 0;
    for (const fault of group) {
      const setting = this.applies(fault, target);
      if (!setting) continue;
      threshold += setting.rate;
      if (draw < threshold) return fault;
    }
    return undefined;
  }

  /** Whether `fault` hits this target. */
  hits(fault: Fault, target: Target): boolean {
    return this.choose([fault], target) === fault;
  }

  /** A host's clock offset in ms, within half the plan's skew either way, fixed by the seed and the host. */
  clockOffset(host: string): number {
    const skew = this.spec.clockSkewMs ?? 0;
    return Math.round((hashUnit(this.spec.seed, 'clock', host) - 0.5) * skew);
  }

  /** A whole number in [min, max] for a detail of a fault (e.g. a delay), fixed by the seed and target. */
  pick(min: number, max: number, fault: Fault, target: Target): number {
    return min + Math.floor(hashUnit(this.spec.seed, fault, 'detail', target.key, target.attempt) * (max - min + 1));
  }
}

/** Counts calls per key, so that the nth call on the same item is a target of its own. */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  next(key: string): number {
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count;
  }
}
