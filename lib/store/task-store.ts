/**
 * The DynamoDB adapter. One item per transient holds its data and every task register, so a claim is one
 * conditional UpdateItem; ready-marker items keyed by task and shard form the sparse ready index the
 * dispatcher reads in Blast's priority order. Every call returns its consumed capacity to the meter.
 */
import {
  type ConsumedCapacity,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { chunk, forEachLimited } from '../concurrency';
import { Status } from '../domain/catalog';
import { CountBucket, type CountDelta, countBuckets, statusOfBucket } from '../domain/counts';
import { ProcessingStatus, type Register, type Registers, type TaskSpec, messageOfClaim } from '../domain/workflow';
import type { Transient } from '../runner';
import { ExpressionBuilder, and, or } from './expressions';

/** Partitions of the processing-status index (`list --status`), so no status value is one hot key. */
export const STATUS_INDEX_SHARDS = 8;
export const STATUS_INDEX = 'byProcessingStatus';
/**
 * Items the transient counters are spread over, so no single item takes every status change. A transient is
 * counted in the counter item of the same shard as its status-index partition, so a shard can be recounted alone.
 */
export const COUNTER_SHARDS = STATUS_INDEX_SHARDS;
/** BatchWriteItem calls of one write sent side by side. */
const BATCH_WRITES_IN_PARALLEL = 4;

const TRANSIENT_KEY_PREFIX = 'T#';

export const keys = {
  transient: (name: string) => ({ pk: `${TRANSIENT_KEY_PREFIX}${name}`, sk: 'STATE' }),
  /** One item per run that saved: the register's claim token names the output its result goes with. */
  output: (name: string, task: string, token: string) => ({ pk: `T#${name}`, sk: `OUT#${task}#${token}` }),
  /** Each marker write makes an item of its own (`id`), so deleting the marker one sent never deletes a newer one. */
  marker: (task: string, shard: number, priority: string, id: string) => ({ pk: `READY#${task}#${shard}`, sk: `${priority}#${id}` }),
  lock: (task: string) => ({ pk: `LOCK#${task}`, sk: 'LOCK' }),
  deadLetter: (task: string, name: string) => ({ pk: `DEAD#${task}`, sk: name }),
  counters: (shard: number) => ({ pk: `COUNTS#${shard}`, sk: 'COUNTS' }),
  systemState: (task: string) => ({ pk: `SYS#${task}`, sk: 'STATE' }),
};

/** FNV-1a: a stable, well-spread shard for a transient name. */
export const shardOf = (name: string, shards: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
};

/** Blast's priority, oldest public timestamp first, as a sort key (the name keeps it unique). */
export const priorityKey = (transient: Pick<Transient, 'publicTimestamp' | 'name'>): string =>
  `${new Date(transient.publicTimestamp).toISOString()}#${transient.name}`;

export const statusIndexKey = (status: ProcessingStatus, name: string) => `${status}#${shardOf(name, STATUS_INDEX_SHARDS)}`;

/** The counters' bucket as stored (`cb`): one letter, projected into the status index for the recount. */
const bucketCodes: Readonly<Record<CountBucket, string>> = {
  [CountBucket.Waiting]: 'w',
  [CountBucket.Processing]: 'p',
  [CountBucket.Blocked]: 'b',
  [CountBucket.Completed]: 'c',
};
const bucketOfCode = new Map(Object.entries(bucketCodes).map(([bucket, code]) => [code, bucket as CountBucket]));
/** The attribute the status index projects besides its keys. */
export const STATUS_INDEX_PROJECTED = ['cb'] as const;

/** A transient as stored: its data, its registers and the bookkeeping of concurrent writers. */
export interface TransientRecord {
  readonly transient: Transient;
  readonly registers: Registers;
  /** Incremented by every register write; orders derived-field writes and guards multi-register writes. */
  readonly version: number;
  readonly processingStatus: ProcessingStatus;
  /** The counters' bucket the transient is counted in: every write that changes it moves one unit between counters. */
  readonly bucket: CountBucket;
  /** Marks the last `setBucket` write (its writer), so a resend refused by its own landing knows it landed. */
  readonly bucketWriter?: string;
  readonly createdAt: number;
}

export interface ReadyMarker {
  readonly task: string;
  readonly shard: number;
  readonly priority: string;
  readonly name: string;
  /** Epoch ms when the task became ready (for chaining latency). */
  readonly readyAt: number;
  /** The task register's generation when it became ready (carried into the message). */
  readonly generation: number;
  /** Unique to the write that made the marker. */
  readonly id: string;
}

export interface DeadLetterRecord {
  readonly task: string;
  readonly name: string;
  readonly body: string;
  readonly reason: string;
  readonly receiveCount: number;
  readonly messageId: string;
  readonly at: number;
}

export interface CapacityMeter {
  record(operation: string, capacity: ConsumedCapacity | ConsumedCapacity[] | undefined, itemsRead?: number): void;
}

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
}

// Short attribute names keep the item, written on every claim and completion, inside one write unit.
const encodeRegister = (register: Register): StoredRegister => ({
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
});

const decodeRegister = (stored: StoredRegister): Register => ({
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
});

type Item = Record<string, unknown>;
type BatchWriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/** A transient item as read (plain JavaScript values) to the record the engine works with. */
export const decodeTransient = (item: Item): TransientRecord => {
  const stored = (item.r ?? {}) as Record<string, StoredRegister>;
  const bucket = bucketOfCode.get(item.cb as string) ?? CountBucket.Waiting;
  // The name and the public timestamp are stored once each, in the key and the priority key.
  const name = (item.pk as string).slice(TRANSIENT_KEY_PREFIX.length);
  const priority = item.pts as string;
  return {
    transient: {
      name,
      raDeg: item.ra as number,
      decDeg: item.dec as number,
      publicTimestamp: priority.slice(0, priority.length - name.length - 1),
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
const dataAttributes = (transient: Transient) => ({
  ra: transient.raDeg,
  dec: transient.decDeg,
  z: transient.redshift,
  cls: transient.spectroscopicClass,
  pts: priorityKey(transient),
});

/** The attributes that follow from the bucket: the stored bucket and the status-index partition. */
const bucketAttributes = (name: string, bucket: CountBucket) => ({ cb: bucketCodes[bucket], pst: statusIndexKey(statusOfBucket(bucket), name) });

const encodeTransient = (transient: Transient, registers: Registers, bucket: CountBucket, now: number): Item => ({
  ...keys.transient(transient.name),
  ...dataAttributes(transient),
  r: Object.fromEntries(Object.entries(registers).flatMap(([task, register]) => (register ? [[task, encodeRegister(register)]] : []))),
  ver: 0,
  ...bucketAttributes(transient.name, bucket),
  at: now,
});

const encodeMarker = (marker: ReadyMarker): Item => ({
  ...keys.marker(marker.task, marker.shard, marker.priority, marker.id),
  name: marker.name,
  at: marker.readyAt,
  ...(marker.generation ? { g: marker.generation } : {}),
});

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException;

/** The conditional-write outcome the caller needs: the new image, or the image that refused the write. */
export type WriteResult = { ok: true; record: TransientRecord } | { ok: false; current: TransientRecord | undefined };

/** A settle's outcome; `bucketWritten`: the derived bucket went into the same write. */
export type SettleResult = { ok: true; record: TransientRecord; bucketWritten: boolean } | { ok: false; current: TransientRecord | undefined };

/** The bucket a write moves a transient to, computed from the image at `version`, whose bucket was `from`. */
export interface BucketMove {
  readonly from: CountBucket;
  readonly to: CountBucket;
  readonly version: number;
}

export interface CreateEntry {
  readonly transient: Transient;
  readonly registers: Registers;
  readonly bucket: CountBucket;
  readonly markers: readonly ReadyMarker[];
}

export interface CreateResult {
  readonly created: string[];
  readonly existing: string[];
  /** Entries DynamoDB refused as they are (an item or key over its limits), each with the reason. */
  readonly rejected: { name: string; reason: string }[];
}

/** What a compare-and-set write of a transient changes besides its registers. */
export interface ReplaceOptions {
  /** The transient's new data. */
  readonly transient?: Transient;
  /** Ready markers written in the same transaction: the durable record of what the write makes ready. */
  readonly markers?: readonly ReadyMarker[];
}

/** A counter item: the counts of one shard, and a version every change increments. */
export interface CounterShard {
  readonly counts: Record<CountBucket, number>;
  readonly version: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const emptyCounts = (): Record<CountBucket, number> => ({ waiting: 0, processing: 0, blocked: 0, completed: 0 });

/**
 * Whether a call writes the counters: an ADD that must never land twice, so the client retries it only after
 * throttling (lib/aws-clients.ts retryOnlyThrottling). A move lost to a timeout is repaired by the recount.
 */
export const isCounterWrite = (commandName: string, input: unknown): boolean => {
  if (commandName !== 'UpdateItemCommand' || typeof input !== 'object' || input === null || !('Key' in input)) return false;
  const key = (input as { Key?: { pk?: { S?: unknown } | string } }).Key?.pk;
  const pk = typeof key === 'string' ? key : key?.S;
  return typeof pk === 'string' && pk.startsWith(keys.counters(0).pk.slice(0, -1));
};

export const taskStore = (doc: DynamoDBDocumentClient, tableName: string, meter?: CapacityMeter) => {
  const TableName = tableName;
  const ReturnConsumedCapacity = 'TOTAL' as const;

  /** A refused write still costs one unit per KB of the item it was checked against, which the meter estimates. */
  const recordRefused = (operation: string, item: Item | undefined) => {
    const units = Math.max(1, Math.ceil(JSON.stringify(item ?? {}).length / 1024));
    meter?.record(`${operation}:refused`, { TableName, CapacityUnits: units, WriteCapacityUnits: units });
  };

  /**
   * A conditional UpdateItem on a transient returning the new image (or the old one, with `ALL_OLD`), or the
   * current one when refused.
   */
  const conditionalUpdate = async (
    name: string,
    operation: string,
    build: (x: ExpressionBuilder) => { update: string; condition: string },
    returnValues: 'ALL_NEW' | 'ALL_OLD' = 'ALL_NEW',
  ): Promise<WriteResult> => {
    const x = new ExpressionBuilder();
    const { update, condition } = build(x);
    try {
      const result = await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.transient(name),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: x.attributeNames,
          ExpressionAttributeValues: x.attributeValues,
          ReturnValues: returnValues,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity,
        }),
      );
      meter?.record(operation, result.ConsumedCapacity);
      return { ok: true, record: decodeTransient(result.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The SDK returns the refusing item in wire format and no consumed capacity.
      const item = error.Item ? unmarshall(error.Item) : undefined;
      recordRefused(operation, item);
      return { ok: false, current: item ? decodeTransient(item) : undefined };
    }
  };

  /** `SET` clauses of a bucket move: the bucket, its status-index partition, and the version it was derived at. */
  const bucketSets = (x: ExpressionBuilder, name: string, bucket: CountBucket) =>
    Object.entries(bucketAttributes(name, bucket)).map(([attribute, value]) => `${x.path(attribute)} = ${x.value(value)}`);

  /** The stored bucket is `bucket` (an item written before buckets were stored counts as waiting). */
  const bucketIs = (x: ExpressionBuilder, bucket: CountBucket) =>
    bucket === CountBucket.Waiting
      ? or(`attribute_not_exists(${x.path('cb')})`, `${x.path('cb')} = ${x.value(bucketCodes[bucket])}`)
      : `${x.path('cb')} = ${x.value(bucketCodes[bucket])}`;

  const store = {
    tableName,

    async get(name: string): Promise<TransientRecord | undefined> {
      const result = await doc.send(new GetCommand({ TableName, Key: keys.transient(name), ConsistentRead: true, ReturnConsumedCapacity }));
      meter?.record('get', result.ConsumedCapacity, result.Item ? 1 : 0);
      return result.Item ? decodeTransient(result.Item) : undefined;
    },

    /** Up to any number of transients by name, 100 per request; missing names are left out. */
    async getMany(names: readonly string[]): Promise<TransientRecord[]> {
      const records: TransientRecord[] = [];
      for (const group of chunk([...new Set(names)], 100)) {
        let pending: Record<string, unknown>[] | undefined = group.map((name) => keys.transient(name));
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          const result: BatchGetCommandOutput = await doc.send(
            new BatchGetCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: true } }, ReturnConsumedCapacity }),
          );
          const items = result.Responses?.[TableName] ?? [];
          meter?.record('getMany', result.ConsumedCapacity, items.length);
          records.push(...items.map(decodeTransient));
          pending = result.UnprocessedKeys?.[TableName]?.Keys;
          if (pending?.length) await pause(Math.min(1000, 25 * 2 ** attempt));
        }
      }
      return records;
    },

    /**
     * Creates transients that do not exist yet, each together with its ready markers in one transaction,
     * so readiness is never lost between the two writes. Existing ones are left exactly as they are. An entry
     * DynamoDB refuses as it is (ValidationError) is rejected alone; the others are created.
     */
    async create(entries: readonly CreateEntry[], now: number): Promise<CreateResult> {
      const created: string[] = [];
      const existing: string[] = [];
      const rejected: { name: string; reason: string }[] = [];
      const perTransaction = Math.max(1, Math.floor(100 / (1 + Math.max(0, ...entries.map((entry) => entry.markers.length)))));
      const transact = async (group: readonly CreateEntry[]) => {
        let pending = group;
        for (let attempt = 0; pending.length > 0; attempt++) {
          const items = pending.flatMap((entry) => [
            {
              Put: {
                TableName,
                Item: encodeTransient(entry.transient, entry.registers, entry.bucket, now),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...entry.markers.map((marker) => ({ Put: { TableName, Item: encodeMarker(marker) } })),
          ]);
          try {
            const result = await doc.send(new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity }));
            meter?.record('create', result.ConsumedCapacity);
            created.push(...pending.map((entry) => entry.transient.name));
            return;
          } catch (error) {
            if (!(error instanceof TransactionCanceledException)) throw error;
            const reasons = error.CancellationReasons ?? [];
            if (reasons.some((reason) => reason.Code === 'ValidationError')) {
              if (pending.length === 1) {
                const [entry] = pending;
                const reason = reasons.find((candidate) => candidate.Code === 'ValidationError')?.Message ?? 'refused by DynamoDB';
                if (entry) rejected.push({ name: entry.transient.name, reason });
                return;
              }
              // Which entry is at fault is not said per item in every case: each goes alone.
              for (const entry of pending) await transact([entry]);
              return;
            }
            let index = 0;
            const taken = new Set<string>();
            for (const entry of pending) {
              if (reasons[index]?.Code === 'ConditionalCheckFailed') taken.add(entry.transient.name);
              index += 1 + entry.markers.length;
            }
            existing.push(...taken);
            pending = pending.filter((entry) => !taken.has(entry.transient.name));
            if (taken.size === 0) {
              if (attempt >= 8) throw error;
              await pause(Math.min(2000, 50 * 2 ** attempt));
            }
          }
        }
      };
      for (const group of chunk(entries, perTransaction)) await transact(group);
      return { created, existing, rejected };
    },

    /**
     * Principle 3: moves one register to "processing" in a single conditional write that re-checks every
     * prerequisite at that instant, under the invocation's token, for a message of the register's generation. A
     * "processing" register whose lease has run out by `now` (its run died) may be claimed again.
     */
    async claim(name: string, spec: TaskSpec, register: Register, now: number): Promise<WriteResult> {
      const result = await conditionalUpdate(name, 'claim', (x) => {
        const own = (...field: string[]) => x.path('r', spec.task, ...field);
        // A waiting retry holds the task for its own message (tokens are `<message id prefix>.<random>`).
        const ownMessage = messageOfClaim(register.claim ?? '');
        const ownClaimable = or(
          `attribute_not_exists(${own()})`,
          and(
            `${own('s')} = ${x.value(Status.NotProcessed)}`,
            or(`attribute_not_exists(${own('ra')})`, `${own('ra')} <= ${x.value(now)}`, `begins_with(${own('c')}, ${x.value(`${ownMessage}.`)})`),
          ),
          and(`${own('s')} = ${x.value(Status.Processing)}`, `${own('l')} < ${x.value(now)}`),
        );
        const prerequisites = Object.entries(spec.prerequisites)
          .filter(([task]) => task !== spec.task)
          .map(([task, wanted]) =>
            wanted === Status.NotProcessed
              ? or(`attribute_not_exists(${x.path('r', task)})`, `${x.path('r', task, 's')} = ${x.value(wanted)}`)
              : `${x.path('r', task, 's')} = ${x.value(wanted)}`,
          );
        // Only a message of the register's generation: one sent before a reset leaves the task to the reset's own.
        const generation = register.generation ?? 0;
        const ownGeneration =
          generation === 0 ? or(`attribute_not_exists(${own('g')})`, `${own('g')} = ${x.value(0)}`) : `${own('g')} = ${x.value(generation)}`;
        return {
          update: `SET ${own()} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`attribute_exists(${x.path('pk')})`, ownClaimable, ownGeneration, ...prerequisites),
        };
      });
      if (result.ok || !result.current) return result;
      // Refused by its own earlier landing (a reply lost, the call sent again): the token is unique to this
      // invocation, so the claim is held all the same.
      const held = result.current.registers[spec.task];
      return register.claim !== undefined && held?.claim === register.claim && held.status === Status.Processing ? { ok: true, record: result.current } : result;
    },

    /**
     * Replaces a register held by `token`, only while it is still "processing" under that token: a run whose
     * claim was lost (a reset, a takeover, a deletion) or that already recorded its result records nothing.
     * Given `move`, the bucket the registers will give as computed from the image at its version, the bucket
     * is written in the same write if nothing has written since (a transient's first and last task, as a
     * rule); otherwise the register is settled alone and `bucketWritten` says so. A write refused by its own
     * earlier landing (a reply lost, the call sent again) is settled with its bucket; `record` is then the
     * current image, which may carry later writes.
     */
    async settle(name: string, task: string, token: string, register: Register, move?: BucketMove): Promise<SettleResult> {
      const held = (x: ExpressionBuilder) => and(`${x.path('r', task, 'c')} = ${x.value(token)}`, `${x.path('r', task, 's')} = ${x.value(Status.Processing)}`);
      const plain = async (): Promise<SettleResult> => {
        const result = await conditionalUpdate(name, 'settle', (x) => ({
          update: `SET ${x.path('r', task)} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: held(x),
        }));
        if (result.ok) return { ...result, bucketWritten: false };
        return ownLanding(result.current) ? { ok: true, record: result.current as TransientRecord, bucketWritten: false } : result;
      };
      const ownLanding = (current: TransientRecord | undefined) => {
        const now = current?.registers[task];
        return now?.claim === token && now.status === register.status && now.lastModified === register.lastModified;
      };
      if (!move) return plain();
      const result = await conditionalUpdate(name, 'settle', (x) => ({
        update:
          `SET ${x.path('r', task)} = ${x.value(encodeRegister(register))}, ${bucketSets(x, name, move.to).join(', ')}, ` +
          `${x.path('dv')} = ${x.value(move.version + 1)} ADD ${x.path('ver')} ${x.value(1)}`,
        // The bucket too, so that the counters learn the true previous bucket.
        condition: and(held(x), `${x.path('ver')} = ${x.value(move.version)}`, bucketIs(x, move.from)),
      }));
      if (result.ok) return { ...result, bucketWritten: true };
      if (!result.current) return result;
      if (ownLanding(result.current)) return { ok: true, record: result.current, bucketWritten: true };
      const now = result.current.registers[task];
      // Another write landed since the claim: the bucket is left to be derived from the new image.
      return now?.claim === token && now.status === Status.Processing ? plain() : result;
    },

    /**
     * Writes several registers and the derived bucket at once — and, given `transient`, its new data — only if
     * nothing changed since `expected` was read: neither a register (the version) nor the bucket (so that the
     * counters learn the true previous bucket). Given markers, they are written in the same transaction: what
     * the write makes ready is recorded with it. For resets, dead letters and revised data: rare writes that
     * must see the whole state.
     */
    async replace(name: string, expected: TransientRecord, registers: Registers, bucket: CountBucket, options: ReplaceOptions = {}): Promise<WriteResult> {
      const build = (x: ExpressionBuilder) => {
        const sets = Object.entries(registers).flatMap(([task, register]) => (register ? [`${x.path('r', task)} = ${x.value(encodeRegister(register))}`] : []));
        const removes: string[] = [];
        if (options.transient) {
          for (const [attribute, value] of Object.entries(dataAttributes(options.transient))) {
            if (value === undefined) removes.push(x.path(attribute));
            else sets.push(`${x.path(attribute)} = ${x.value(value)}`);
          }
        }
        sets.push(...bucketSets(x, name, bucket), `${x.path('dv')} = ${x.value(expected.version + 1)}`);
        return {
          update: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`${x.path('ver')} = ${x.value(expected.version)}`, bucketIs(x, expected.bucket)),
        };
      };
      const markers = options.markers ?? [];
      if (markers.length === 0) return conditionalUpdate(name, 'replace', build);
      const x = new ExpressionBuilder();
      const { update, condition } = build(x);
      const Update = {
        TableName,
        Key: keys.transient(name),
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: x.attributeNames,
        ExpressionAttributeValues: x.attributeValues,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      };
      try {
        const result = await doc.send(
          new TransactWriteCommand({
            TransactItems: [{ Update }, ...markers.map((marker) => ({ Put: { TableName, Item: encodeMarker(marker) } }))],
            ReturnConsumedCapacity,
          }),
        );
        meter?.record('replace', result.ConsumedCapacity);
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const [reason] = reasons;
        if (reason?.Code === 'ConditionalCheckFailed') {
          const item = reason.Item ? unmarshall(reason.Item as Parameters<typeof unmarshall>[0]) : undefined;
          recordRefused('replace', item);
          return { ok: false, current: item ? decodeTransient(item) : undefined };
        }
        // Another transaction on the item (TransactionConflict): read it again, as for a refused condition.
        if (reasons.some((candidate) => candidate.Code === 'TransactionConflict')) return { ok: false, current: await store.get(name) };
        throw error;
      }
      // A transaction returns no image; the condition held, so the new one is the expected one with these changes.
      return {
        ok: true,
        record: {
          ...expected,
          transient: options.transient ?? expected.transient,
          registers: { ...expected.registers, ...registers },
          version: expected.version + 1,
          bucket,
          processingStatus: statusOfBucket(bucket),
        },
      };
    },

    /**
     * Records the bucket computed from the image at `version`, if the stored bucket is still `from`. Later
     * images win (the version orders them), so two completions landing out of order cannot leave a stale
     * bucket behind. `writer` marks the write, so that a resend refused by its own earlier landing is known
     * as written. Returns whether this call's write moved the transient from `from` to `to`.
     */
    async setBucket(name: string, move: BucketMove, writer: string): Promise<boolean> {
      const result = await conditionalUpdate(
        name,
        'status',
        (x) => ({
          update: `SET ${bucketSets(x, name, move.to).join(', ')}, ${x.path('dv')} = ${x.value(move.version)}, ${x.path('dw')} = ${x.value(writer)}`,
          condition: and(
            `attribute_exists(${x.path('pk')})`,
            bucketIs(x, move.from),
            or(`attribute_not_exists(${x.path('dv')})`, `${x.path('dv')} < ${x.value(move.version)}`),
          ),
        }),
        'ALL_OLD',
      );
      return result.ok || (result.current?.bucket === move.to && result.current.bucketWriter === writer);
    },

    /**
     * Moves transients between the counters' buckets (atomic ADDs on one counter item, which also count the
     * item's version for the recount). The client never sends one twice (isCounterWrite).
     */
    async addCounts(shard: number, delta: CountDelta): Promise<void> {
      const entries = Object.entries(delta).filter(([, value]) => value !== 0);
      if (entries.length === 0) return;
      const x = new ExpressionBuilder();
      const result = await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.counters(shard % COUNTER_SHARDS),
          UpdateExpression: `ADD ${[...entries, ['cv', 1] as const].map(([bucket, value]) => `${x.path(bucket)} ${x.value(value)}`).join(', ')}`,
          ExpressionAttributeNames: x.attributeNames,
          ExpressionAttributeValues: x.attributeValues,
          ReturnConsumedCapacity,
        }),
      );
      meter?.record('counts', result.ConsumedCapacity);
    },

    /** One counter item, read consistently. */
    async readCounterShard(shard: number): Promise<CounterShard> {
      const result = await doc.send(new GetCommand({ TableName, Key: keys.counters(shard), ConsistentRead: true, ReturnConsumedCapacity }));
      meter?.record('readCounterShard', result.ConsumedCapacity, result.Item ? 1 : 0);
      const counts = emptyCounts();
      for (const bucket of countBuckets) counts[bucket] = typeof result.Item?.[bucket] === 'number' ? result.Item[bucket] : 0;
      return { counts, version: typeof result.Item?.cv === 'number' ? result.Item.cv : 0 };
    },

    /** Sets a counter item to `counts` if no move has changed it since it was read at `version`. */
    async repairCounterShard(shard: number, version: number, counts: Record<CountBucket, number>): Promise<boolean> {
      const x = new ExpressionBuilder();
      try {
        const result = await doc.send(
          new UpdateCommand({
            TableName,
            Key: keys.counters(shard),
            UpdateExpression: `SET ${countBuckets.map((bucket) => `${x.path(bucket)} = ${x.value(counts[bucket])}`).join(', ')} ADD ${x.path('cv')} ${x.value(1)}`,
            ConditionExpression: version === 0 ? or(`attribute_not_exists(${x.path('cv')})`, `${x.path('cv')} = ${x.value(0)}`) : `${x.path('cv')} = ${x.value(version)}`,
            ExpressionAttributeNames: x.attributeNames,
            ExpressionAttributeValues: x.attributeValues,
            ReturnConsumedCapacity,
          }),
        );
        meter?.record('repairCounts', result.ConsumedCapacity);
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    /** The counters summed over their items: one BatchGetItem, whatever the number of transients. */
    async readCounts(): Promise<Record<CountBucket, number>> {
      const totals = emptyCounts();
      let pending: Record<string, unknown>[] | undefined = Array.from({ length: COUNTER_SHARDS }, (_, shard) => keys.counters(shard));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        const result: BatchGetCommandOutput = await doc.send(
          new BatchGetCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: true } }, ReturnConsumedCapacity }),
        );
        const items = result.Responses?.[TableName] ?? [];
        meter?.record('readCounts', result.ConsumedCapacity, items.length);
        for (const item of items) {
          for (const bucket of countBuckets) totals[bucket] += typeof item[bucket] === 'number' ? item[bucket] : 0;
        }
        pending = result.UnprocessedKeys?.[TableName]?.Keys;
        if (pending?.length) await pause(Math.min(1000, 25 * 2 ** attempt));
      }
      return totals;
    },

    /**
     * The transients of one shard by bucket, counted from the status index (keys and the bucket only: no
     * base-table read). Blocked and completed partitions are counted by DynamoDB; the processing partition is
     * split into waiting and processing by its projected bucket.
     */
    async countIndexShard(shard: number): Promise<Record<CountBucket, number>> {
      const counts = emptyCounts();
      for (const status of Object.values(ProcessingStatus)) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const result: QueryCommandOutput = await doc.send(
            new QueryCommand({
              TableName,
              IndexName: STATUS_INDEX,
              KeyConditionExpression: 'pst = :pst',
              ExpressionAttributeValues: { ':pst': `${status}#${shard}` },
              ...(status === ProcessingStatus.Processing ? { ProjectionExpression: 'cb' } : { Select: 'COUNT' as const }),
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity,
            }),
          );
          meter?.record('countIndex', result.ConsumedCapacity, result.Count ?? 0);
          if (status === ProcessingStatus.Processing) {
            for (const item of result.Items ?? []) counts[item.cb === bucketCodes.processing ? CountBucket.Processing : CountBucket.Waiting] += 1;
          } else {
            counts[status === ProcessingStatus.Blocked ? CountBucket.Blocked : CountBucket.Completed] += result.Count ?? 0;
          }
          startKey = result.LastEvaluatedKey;
        } while (startKey);
      }
      return counts;
    },

    /** A system runner's record kept between runs (a checkpoint). */
    async readSystemState(task: string): Promise<Record<string, unknown> | undefined> {
      const result = await doc.send(new GetCommand({ TableName, Key: keys.systemState(task), ConsistentRead: true, ReturnConsumedCapacity }));
      meter?.record('readSystemState', result.ConsumedCapacity, result.Item ? 1 : 0);
      const state: unknown = result.Item?.state;
      return state !== null && typeof state === 'object' && !Array.isArray(state) ? (state as Record<string, unknown>) : undefined;
    },

    async writeSystemState(task: string, state: Record<string, unknown>, now: number): Promise<void> {
      const result = await doc.send(new PutCommand({ TableName, Item: { ...keys.systemState(task), state, at: now }, ReturnConsumedCapacity }));
      meter?.record('writeSystemState', result.ConsumedCapacity);
    },

    /** Deletes a transient's item; returns it as it was, or undefined if there was none. */
    async deleteTransient(name: string): Promise<TransientRecord | undefined> {
      const result = await doc.send(new DeleteCommand({ TableName, Key: keys.transient(name), ReturnValues: 'ALL_OLD', ReturnConsumedCapacity }));
      meter?.record('delete', result.ConsumedCapacity);
      return result.Attributes ? decodeTransient(result.Attributes) : undefined;
    },

    async putMarkers(markers: readonly ReadyMarker[]): Promise<void> {
      await batchWrite(markers.map((marker) => ({ PutRequest: { Item: encodeMarker(marker) } })), 'putMarkers');
    },

    /** Deletes exactly these markers (each key is unique to the write that made it). */
    async deleteMarkers(markers: readonly ReadyMarker[]): Promise<void> {
      await batchWrite(
        markers.map((marker) => ({ DeleteRequest: { Key: keys.marker(marker.task, marker.shard, marker.priority, marker.id) } })),
        'deleteMarkers',
      );
    },

    /** One page of a task shard's ready markers, oldest public timestamp first. */
    async readyPage(
      task: string,
      shard: number,
      limit: number,
      startKey?: Record<string, unknown>,
    ): Promise<{ markers: ReadyMarker[]; nextKey?: Record<string, unknown> }> {
      const { pk } = keys.marker(task, shard, '', '');
      const result = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          Limit: limit,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
          ReturnConsumedCapacity,
        }),
      );
      const items = result.Items ?? [];
      meter?.record('readyPage', result.ConsumedCapacity, items.length);
      return {
        markers: items.map((item) => {
          const sk = item.sk as string;
          const cut = sk.lastIndexOf('#');
          return {
            task,
            shard,
            priority: sk.slice(0, cut),
            id: sk.slice(cut + 1),
            name: item.name as string,
            readyAt: item.at as number,
            generation: typeof item.g === 'number' ? item.g : 0,
          };
        }),
        ...(result.LastEvaluatedKey ? { nextKey: result.LastEvaluatedKey } : {}),
      };
    },

    /**
     * One page of a processing-status index partition (`status#shard`), oldest public timestamp first,
     * starting after the priority key `after`. The index holds keys (and the bucket) only: the names, not the registers.
     */
    async statusPage(status: ProcessingStatus, shard: number, limit: number, after?: string): Promise<{ entries: { name: string; priority: string }[]; more: boolean }> {
      const result = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: after === undefined ? 'pst = :pst' : 'pst = :pst AND pts > :after',
          ExpressionAttributeValues: { ':pst': `${status}#${shard}`, ...(after === undefined ? {} : { ':after': after }) },
          Limit: limit,
          ReturnConsumedCapacity,
        }),
      );
      const items = result.Items ?? [];
      meter?.record('statusPage', result.ConsumedCapacity, items.length);
      return {
        entries: items.map((item) => ({ name: (item.pk as string).slice('T#'.length), priority: item.pts as string })),
        more: result.LastEvaluatedKey !== undefined,
      };
    },

    /**
     * A lease on one task's dispatching or one system runner's run, until `until` by the taker's clock. It can be
     * taken once its lease ended before `expiredBefore` (the taker's now less the tolerated clock skew), and
     * again by its owner (its first put landed but the reply was lost, or it extends its lease).
     */
    async acquireLock(task: string, owner: string, lease: { readonly until: number; readonly expiredBefore: number }): Promise<boolean> {
      try {
        const result = await doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.lock(task), owner, until: lease.until },
            ConditionExpression: 'attribute_not_exists(pk) OR #until < :expired OR #owner = :owner',
            ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
            ExpressionAttributeValues: { ':expired': lease.expiredBefore, ':owner': owner },
            ReturnConsumedCapacity,
          }),
        );
        meter?.record('lock', result.ConsumedCapacity);
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async releaseLock(task: string, owner: string): Promise<void> {
      try {
        const result = await doc.send(
          new DeleteCommand({
            TableName,
            Key: keys.lock(task),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
            ReturnConsumedCapacity,
          }),
        );
        meter?.record('unlock', result.ConsumedCapacity);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    /**
     * Saves a run's results under its claim token. Nothing is overwritten: the result a later task reads is the
     * one whose token the register recorded, so a run whose claim was lost can save but is never read.
     */
    async saveOutput(name: string, task: string, token: string, data: Record<string, unknown>, now: number): Promise<void> {
      const result = await doc.send(new PutCommand({ TableName, Item: { ...keys.output(name, task, token), data, at: now }, ReturnConsumedCapacity }));
      meter?.record('saveOutput', result.ConsumedCapacity);
    },

    async readOutput<T extends object>(name: string, task: string, token: string): Promise<T | undefined> {
      const result = await doc.send(new GetCommand({ TableName, Key: keys.output(name, task, token), ConsistentRead: true, ReturnConsumedCapacity }));
      meter?.record('readOutput', result.ConsumedCapacity, result.Item ? 1 : 0);
      return result.Item?.data as T | undefined;
    },

    async putDeadLetter(record: DeadLetterRecord): Promise<void> {
      const result = await doc.send(
        new PutCommand({
          TableName,
          Item: {
            ...keys.deadLetter(record.task, record.name),
            body: record.body,
            reason: record.reason,
            receiveCount: record.receiveCount,
            messageId: record.messageId,
            at: record.at,
          },
          ReturnConsumedCapacity,
        }),
      );
      meter?.record('putDeadLetter', result.ConsumedCapacity);
    },

    async deadLetters(task: string, limit = 100, startKey?: Record<string, unknown>) {
      const result = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.deadLetter(task, '').pk },
          Limit: limit,
          ExclusiveStartKey: startKey,
          ReturnConsumedCapacity,
        }),
      );
      const items = result.Items ?? [];
      meter?.record('deadLetters', result.ConsumedCapacity, items.length);
      const records: DeadLetterRecord[] = items.map((item) => ({
        task,
        name: item.sk as string,
        body: item.body as string,
        reason: item.reason as string,
        receiveCount: item.receiveCount as number,
        messageId: item.messageId as string,
        at: item.at as number,
      }));
      return { records, ...(result.LastEvaluatedKey ? { nextKey: result.LastEvaluatedKey } : {}) };
    },

    async deleteDeadLetter(task: string, name: string): Promise<void> {
      const result = await doc.send(new DeleteCommand({ TableName, Key: keys.deadLetter(task, name), ReturnConsumedCapacity }));
      meter?.record('deleteDeadLetter', result.ConsumedCapacity);
    },
  };

  /**
   * BatchWriteItem in groups of 25, a few groups at a time (the dispatcher deletes a round of sent markers
   * at once), retrying unprocessed items with backoff as AWS advises.
   */
  const batchWrite = async (requests: BatchWriteRequests, operation: string) => {
    const writeGroup = async (group: BatchWriteRequests) => {
      let pending: BatchWriteRequests | undefined = group;
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        const result: BatchWriteCommandOutput = await doc.send(
          new BatchWriteCommand({ RequestItems: { [TableName]: pending }, ReturnConsumedCapacity }),
        );
        meter?.record(operation, result.ConsumedCapacity);
        pending = result.UnprocessedItems?.[TableName];
        if (pending?.length) await pause(Math.min(1000, 25 * 2 ** attempt));
      }
    };
    await forEachLimited(chunk(requests, 25), BATCH_WRITES_IN_PARALLEL, writeGroup);
  };

  return store;
};

export type TaskStore = ReturnType<typeof taskStore>;
