/**
 * The table's items: their keys, and how the engine's records are written into them and read back. Every
 * item kind lives in the one table (lib/store/dynamodb/table.ts), told apart by its partition key's prefix.
 */
import { CountBucket, statusOfBucket } from '../../domain/counts';
import { Lane } from '../../domain/lanes';
import { priorityKey, shardOf, timestampOfPriority } from '../../domain/ordering';
import { type ProcessingStatus, type Register, type Registers, processingStatuses } from '../../domain/workflow';
import { type ReadyMarker, STATUS_INDEX_SHARDS, type TransientRecord } from '../../engine/store';
import type { Transient } from '../../runner';

/** The partition-key prefixes of the item kinds (the IAM conditions on leading keys name these: leadingKeys). */
export const KeyPrefix = {
  Transient: 'T#',
  Ready: 'READY#',
  Lock: 'LOCK#',
  DeadLetter: 'DEAD#',
  Counters: 'COUNTS#',
  SystemState: 'SYS#',
  Backfill: 'BACKFILL',
} as const;

/** The sort-key prefix of run-history items; with a task, `RUN#<task>#` selects that task's. */
export const RUN_PREFIX = 'RUN#';
/** Starts the sort key of a backfill-lane marker: it sorts after every live one (priority keys start with a year). */
export const BACKFILL_MARKER = '~';

export const keys = {
  transient: (name: string) => ({ pk: `${KeyPrefix.Transient}${name}`, sk: 'STATE' }),
  /** One item per run that saved: the register's claim token names the output its result goes with. */
  output: (name: string, task: string, token: string) => ({ pk: `${KeyPrefix.Transient}${name}`, sk: `OUT#${task}#${token}` }),
  /**
   * One item per attempt (run history), beside the transient's own: sorted by task, then start time, so that a
   * task's attempts are one Query. Written whole at claim and at settle; it expires at its `ttl`.
   */
  run: (name: string, task: string, startedAt: number, token: string) => ({
    pk: `${KeyPrefix.Transient}${name}`,
    sk: `${RUN_PREFIX}${task}#${String(startedAt).padStart(15, '0')}#${token}`,
  }),
  /** Each marker write makes an item of its own (`id`), so deleting the marker one sent never deletes a newer one. */
  marker: (task: string, shard: number, priority: string, id: string, lane?: Lane) => ({
    pk: `${KeyPrefix.Ready}${task}#${shard}`,
    sk: `${lane === Lane.Backfill ? BACKFILL_MARKER : ''}${priority}#${id}`,
  }),
  lock: (task: string) => ({ pk: `${KeyPrefix.Lock}${task}`, sk: 'LOCK' }),
  deadLetter: (task: string, name: string) => ({ pk: `${KeyPrefix.DeadLetter}${task}`, sk: name }),
  counters: (shard: number) => ({ pk: `${KeyPrefix.Counters}${shard}`, sk: 'COUNTS' }),
  systemState: (task: string) => ({ pk: `${KeyPrefix.SystemState}${task}`, sk: 'STATE' }),
  /** Every backfill in one partition: there are a handful at a time, and `backfill list` reads them in one query. */
  backfill: (id: string) => ({ pk: KeyPrefix.Backfill, sk: id }),
};

/** The kinds of item, told apart by their partition key; `status` is the processing-status index's key. */
export type ItemKind = 'transient' | 'ready' | 'lock' | 'deadLetter' | 'counters' | 'systemState' | 'status' | 'backfill';
/** The kinds whose items belong to one task each. */
export type TaskItemKind = 'ready' | 'lock' | 'deadLetter' | 'systemState';
/** The tasks whose items of each kind a function may reach (the stack derives them from the graph). */
export type ItemScope = { readonly [K in TaskItemKind]?: readonly string[] };

/**
 * The partition keys of the items of `kind` that a function with `scope` may reach, as IAM patterns (`*` any
 * characters) for a condition on `dynamodb:LeadingKeys`: every transient (its outputs share its key) and every
 * counters shard; only the scope's tasks' ready markers, locks, dead letters and state. Task names hold none of
 * `#*?$` (lib/domain/limits.ts reservedInTaskName), so a task's pattern matches no other task's keys.
 */
export const leadingKeys = (kind: ItemKind, scope: ItemScope): string[] => {
  switch (kind) {
    case 'transient':
      return [`${KeyPrefix.Transient}*`];
    case 'counters':
      return [`${KeyPrefix.Counters}*`];
    case 'backfill':
      return [KeyPrefix.Backfill];
    case 'status':
      return processingStatuses.map((status) => `${status}#*`);
    case 'ready':
      return (scope.ready ?? []).map((task) => `${KeyPrefix.Ready}${task}#*`);
    case 'lock':
      return (scope.lock ?? []).map((task) => keys.lock(task).pk);
    case 'deadLetter':
      return (scope.deadLetter ?? []).map((task) => keys.deadLetter(task, '').pk);
    case 'systemState':
      return (scope.systemState ?? []).map((task) => keys.systemState(task).pk);
  }
};

export const statusIndexKey = (status: ProcessingStatus, name: string) => `${status}#${shardOf(name, STATUS_INDEX_SHARDS)}`;

/** The counters' bucket as stored (`cb`): one letter, projected into the status index for the recount. */
export const bucketCodes: Readonly<Record<CountBucket, string>> = {
  [CountBucket.Waiting]: 'w',
  [CountBucket.Processing]: 'p',
  [CountBucket.Blocked]: 'b',
  [CountBucket.Completed]: 'c',
};
const bucketOfCode = new Map(Object.entries(bucketCodes).map(([bucket, code]) => [code, bucket as CountBucket]));
export const bucketOfStoredCode = (code: unknown): CountBucket => bucketOfCode.get(code as string) ?? CountBucket.Waiting;

interface StoredRegister {
  s: string;
  t?: number;
  d?: number;
  n?: number;
  c?: string;
  l?: number;
  e?: string;
  dl?: boolean;
  ra?: number;
  g?: number;
  v?: string;
  /** Set (1) on a register a backfill reset: its readiness goes through the backfill lane. */
  b?: 1;
}

// Short attribute names keep the item, written on every claim and completion, inside one write unit.
export const encodeRegister = (register: Register): StoredRegister => ({
  s: register.status,
  t: register.lastModified,
  d: register.processingSeconds,
  n: register.attempt,
  c: register.claim,
  l: register.leaseUntil,
  e: register.lastError,
  dl: register.deadLettered || undefined,
  ra: register.retryAt,
  g: register.generation || undefined,
  v: register.version,
  b: register.lane === Lane.Backfill ? 1 : undefined,
});

export const decodeRegister = (stored: StoredRegister): Register => ({
  status: stored.s,
  ...(stored.t === undefined ? {} : { lastModified: stored.t }),
  ...(stored.d === undefined ? {} : { processingSeconds: stored.d }),
  ...(stored.n === undefined ? {} : { attempt: stored.n }),
  ...(stored.c === undefined ? {} : { claim: stored.c }),
  ...(stored.l === undefined ? {} : { leaseUntil: stored.l }),
  ...(stored.e === undefined ? {} : { lastError: stored.e }),
  ...(stored.dl ? { deadLettered: true } : {}),
  ...(stored.ra === undefined ? {} : { retryAt: stored.ra }),
  ...(stored.g ? { generation: stored.g } : {}),
  ...(stored.v === undefined ? {} : { version: stored.v }),
  ...(stored.b ? { lane: Lane.Backfill } : {}),
});

type Item = Record<string, unknown>;

/** A transient item as read (plain JavaScript values) to the record the engine works with. */
export const decodeTransient = (item: Item): TransientRecord => {
  const stored = (item.r ?? {}) as Record<string, StoredRegister>;
  const bucket = bucketOfStoredCode(item.cb);
  // The name and the public timestamp are stored once each, in the key and the priority key.
  const name = (item.pk as string).slice(KeyPrefix.Transient.length);
  return {
    transient: {
      name,
      raDeg: item.ra as number,
      decDeg: item.dec as number,
      publicTimestamp: timestampOfPriority(item.pts as string, name),
      ...(item.z === undefined ? {} : { redshift: item.z as number }),
      ...(item.cls === undefined ? {} : { spectroscopicClass: item.cls as string }),
    },
    registers: Object.fromEntries(Object.entries(stored).map(([task, register]) => [task, decodeRegister(register)])),
    version: (item.ver as number | undefined) ?? 0,
    processingStatus: statusOfBucket(bucket),
    bucket,
    ...(typeof item.dw === 'string' ? { bucketWriter: item.dw } : {}),
    createdAt: (item.at as number | undefined) ?? 0,
  };
};

/**
 * The transient's own data as attributes (undefined ones are left out by the document client). The name is the
 * key's, the public timestamp the priority key's: every byte counts, as the item must stay inside one write unit.
 */
export const dataAttributes = (transient: Transient) => ({
  ra: transient.raDeg,
  dec: transient.decDeg,
  z: transient.redshift,
  cls: transient.spectroscopicClass,
  pts: priorityKey(transient),
});

/** The attributes that follow from the bucket: the stored bucket and the status-index partition. */
export const bucketAttributes = (name: string, bucket: CountBucket) => ({ cb: bucketCodes[bucket], pst: statusIndexKey(statusOfBucket(bucket), name) });

export const encodeTransient = (transient: Transient, registers: Registers, bucket: CountBucket, now: number): Item => ({
  ...keys.transient(transient.name),
  ...dataAttributes(transient),
  r: Object.fromEntries(Object.entries(registers).flatMap(([task, register]) => (register ? [[task, encodeRegister(register)]] : []))),
  ver: 0,
  ...bucketAttributes(transient.name, bucket),
  at: now,
});

export const encodeMarker = (marker: ReadyMarker): Item => ({
  ...keys.marker(marker.task, marker.shard, marker.priority, marker.id, marker.lane),
  name: marker.name,
  at: marker.readyAt,
  ...(marker.generation ? { g: marker.generation } : {}),
});

export const decodeMarker = (task: string, shard: number, item: Item): ReadyMarker => {
  const stored = item.sk as string;
  const backfill = stored.startsWith(BACKFILL_MARKER);
  const sk = backfill ? stored.slice(BACKFILL_MARKER.length) : stored;
  const cut = sk.lastIndexOf('#');
  return {
    task,
    shard,
    ...(backfill ? { lane: Lane.Backfill } : {}),
    priority: sk.slice(0, cut),
    id: sk.slice(cut + 1),
    name: item.name as string,
    readyAt: item.at as number,
    generation: typeof item.g === 'number' ? item.g : 0,
  };
};
