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
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { chunk, forEachLimited } from '../concurrency';
import { Status } from '../domain/catalog';
import { type CountBucket, type CountDelta, countBuckets } from '../domain/counts';
import { type ProcessingStatus, type Register, type Registers, type TaskSpec, messageOfClaim } from '../domain/workflow';
import type { Transient } from '../runner';
import { ExpressionBuilder, and, or } from './expressions';

/** Partitions of the processing-status index (`list --status`), so no status value is one hot key. */
export const STATUS_INDEX_SHARDS = 8;
export const STATUS_INDEX = 'byProcessingStatus';
/** Items the transient counters are spread over, so no single item takes every status change. */
export const COUNTER_SHARDS = 8;
/** BatchWriteItem calls of one write sent side by side. */
const BATCH_WRITES_IN_PARALLEL = 4;

export const keys = {
  transient: (name: string) => ({ pk: `T#${name}`, sk: 'STATE' }),
  output: (name: string, task: string) => ({ pk: `T#${name}`, sk: `OUT#${task}` }),
  marker: (task: string, shard: number, priority: string) => ({ pk: `READY#${task}#${shard}`, sk: priority }),
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

/** A transient as stored: its data, its registers and the bookkeeping of concurrent writers. */
export interface TransientRecord {
  readonly transient: Transient;
  readonly registers: Registers;
  /** Incremented by every register write; orders derived-field writes and guards multi-register writes. */
  readonly version: number;
  readonly processingStatus: ProcessingStatus;
  readonly createdAt: number;
}

export interface ReadyMarker {
  readonly task: string;
  readonly shard: number;
  readonly priority: string;
  readonly name: string;
  /** Epoch ms when the task became ready (for chaining latency). */
  readonly readyAt: number;
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
});

type Item = Record<string, unknown>;
type BatchWriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/** A transient item as read (plain JavaScript values) to the record the engine works with. */
export const decodeTransient = (item: Item): TransientRecord => {
  const stored = (item.r ?? {}) as Record<string, StoredRegister>;
  return {
    transient: {
      name: item.name as string,
      raDeg: item.ra as number,
      decDeg: item.dec as number,
      publicTimestamp: item.ts as string,
      ...(item.z === undefined ? {} : { redshift: item.z as number }),
      ...(item.cls === undefined ? {} : { spectroscopicClass: item.cls as string }),
    },
    registers: Object.fromEntries(Object.entries(stored).map(([task, register]) => [task, decodeRegister(register)])),
    version: (item.ver as number | undefined) ?? 0,
    processingStatus: item.ps as ProcessingStatus,
    createdAt: (item.at as number | undefined) ?? 0,
  };
};

/** The transient's own data as attributes (undefined ones are left out by the document client). */
const dataAttributes = (transient: Transient) => ({
  name: transient.name,
  ra: transient.raDeg,
  dec: transient.decDeg,
  ts: transient.publicTimestamp,
  z: transient.redshift,
  cls: transient.spectroscopicClass,
  pts: priorityKey(transient),
});

const encodeTransient = (transient: Transient, registers: Registers, status: ProcessingStatus, now: number): Item => ({
  ...keys.transient(transient.name),
  ...dataAttributes(transient),
  r: Object.fromEntries(Object.entries(registers).flatMap(([task, register]) => (register ? [[task, encodeRegister(register)]] : []))),
  ver: 0,
  ps: status,
  pst: statusIndexKey(status, transient.name),
  at: now,
});

const encodeMarker = (marker: ReadyMarker): Item => ({
  ...keys.marker(marker.task, marker.shard, marker.priority),
  name: marker.name,
  at: marker.readyAt,
});

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException;

/** The conditional-write outcome the caller needs: the new image, or the image that refused the write. */
export type WriteResult = { ok: true; record: TransientRecord } | { ok: false; current: TransientRecord | undefined };

/** A settle's outcome; `statusWritten`: the derived processing status went into the same write. */
export type SettleResult = { ok: true; record: TransientRecord; statusWritten: boolean } | { ok: false; current: TransientRecord | undefined };

export interface CreateResult {
  readonly created: string[];
  readonly existing: string[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const taskStore = (doc: DynamoDBDocumentClient, tableName: string, meter?: CapacityMeter) => {
  const TableName = tableName;
  const ReturnConsumedCapacity = 'TOTAL' as const;

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
      // The SDK returns the refusing item in wire format and no consumed capacity; a refused write still
      // costs one unit per KB of that item, which the meter estimates from its size.
      const item = error.Item ? unmarshall(error.Item) : undefined;
      const units = Math.max(1, Math.ceil(JSON.stringify(item ?? {}).length / 1024));
      meter?.record(`${operation}:refused`, { TableName, CapacityUnits: units, WriteCapacityUnits: units });
      return { ok: false, current: item ? decodeTransient(item) : undefined };
    }
  };

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
     * so readiness is never lost between the two writes. Existing ones are left exactly as they are.
     */
    async create(
      entries: readonly { transient: Transient; registers: Registers; status: ProcessingStatus; markers: readonly ReadyMarker[] }[],
      now: number,
    ): Promise<CreateResult> {
      const created: string[] = [];
      const existing: string[] = [];
      const perTransaction = Math.max(1, Math.floor(100 / (1 + Math.max(0, ...entries.map((entry) => entry.markers.length)))));
      for (const group of chunk(entries, perTransaction)) {
        let pending = group;
        for (let attempt = 0; pending.length > 0; attempt++) {
          const items = pending.flatMap((entry) => [
            {
              Put: {
                TableName,
                Item: encodeTransient(entry.transient, entry.registers, entry.status, now),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...entry.markers.map((marker) => ({ Put: { TableName, Item: encodeMarker(marker) } })),
          ]);
          try {
            const result = await doc.send(new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity }));
            meter?.record('create', result.ConsumedCapacity);
            created.push(...pending.map((entry) => entry.transient.name));
            pending = [];
          } catch (error) {
            if (!(error instanceof TransactionCanceledException)) throw error;
            const reasons = error.CancellationReasons ?? [];
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
      }
      return { created, existing };
    },

    /**
     * Principle 3: moves one register to "processing" in a single conditional write that re-checks every
     * prerequisite at that instant. A "processing" register whose lease has run out (its run died) may be
     * claimed again.
     */
    async claim(name: string, spec: TaskSpec, register: Register, now: number): Promise<WriteResult> {
      const result = await conditionalUpdate(name, 'claim', (x) => {
        const own = (...field: string[]) => x.path('r', spec.task, ...field);
        // A waiting retry holds the task for its own message (claims are `<message id prefix>.<attempt>`).
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
        return {
          update: `SET ${own()} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`attribute_exists(${x.path('pk')})`, ownClaimable, ...prerequisites),
        };
      });
      if (result.ok || !result.current) return result;
      // Refused by its own earlier landing (a reply lost, the call sent again): the claim is held all the same.
      const held = result.current.registers[spec.task];
      return register.claim !== undefined && held?.claim === register.claim && held.status === Status.Processing ? { ok: true, record: result.current } : result;
    },

    /**
     * Replaces a register held by `claim`; refused if the claim was lost (a reset, a takeover, a deletion).
     * Given `derived`, the processing status the registers will give as computed from the image at its
     * `version` (whose status was `from`), that status is written in the same write if nothing has written
     * since (a transient's last task, as a rule); otherwise the register is settled alone and `statusWritten`
     * says so. A write refused by its own earlier landing (a reply lost, the call sent again) is settled with
     * its status; `record` is then the current image, which may carry later writes.
     */
    async settle(
      name: string,
      task: string,
      claim: string,
      register: Register,
      derived?: { readonly status: ProcessingStatus; readonly from: ProcessingStatus; readonly version: number },
    ): Promise<SettleResult> {
      const plain = async (): Promise<SettleResult> => {
        const result = await conditionalUpdate(name, 'settle', (x) => ({
          update: `SET ${x.path('r', task)} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: `${x.path('r', task, 'c')} = ${x.value(claim)}`,
        }));
        return result.ok ? { ...result, statusWritten: false } : result;
      };
      if (!derived) return plain();
      const result = await conditionalUpdate(name, 'settle', (x) => ({
        update:
          `SET ${x.path('r', task)} = ${x.value(encodeRegister(register))}, ${x.path('ps')} = ${x.value(derived.status)}, ` +
          `${x.path('pst')} = ${x.value(statusIndexKey(derived.status, name))}, ${x.path('dv')} = ${x.value(derived.version + 1)} ` +
          `ADD ${x.path('ver')} ${x.value(1)}`,
        // The status too, as `replace` checks it, so that the counters learn the true previous status.
        condition: and(
          `${x.path('r', task, 'c')} = ${x.value(claim)}`,
          `${x.path('ver')} = ${x.value(derived.version)}`,
          `${x.path('ps')} = ${x.value(derived.from)}`,
        ),
      }));
      if (result.ok) return { ...result, statusWritten: true };
      const held = result.current?.registers[task];
      if (held?.claim !== claim || !result.current) return result;
      if (held.status === register.status && held.lastModified === register.lastModified) return { ok: true, record: result.current, statusWritten: true };
      // Another write landed since the claim: the status is left to be derived from the new image.
      return plain();
    },

    /**
     * Writes several registers and the derived processing status at once — and, given `transient`, its new
     * data — only if nothing changed since `expected` was read: neither a register (the version) nor the
     * processing status (so that the counters learn the true previous status). For resets, dead letters
     * and revised data: rare writes that must see the whole state.
     */
    replace(
      name: string,
      expected: Pick<TransientRecord, 'version' | 'processingStatus'>,
      registers: Registers,
      status: ProcessingStatus,
      transient?: Transient,
    ): Promise<WriteResult> {
      return conditionalUpdate(name, 'replace', (x) => {
        const sets = Object.entries(registers).flatMap(([task, register]) =>
          register ? [`${x.path('r', task)} = ${x.value(encodeRegister(register))}`] : [],
        );
        const removes: string[] = [];
        if (transient) {
          for (const [attribute, value] of Object.entries(dataAttributes(transient))) {
            if (value === undefined) removes.push(x.path(attribute));
            else sets.push(`${x.path(attribute)} = ${x.value(value)}`);
          }
        }
        sets.push(
          `${x.path('ps')} = ${x.value(status)}`,
          `${x.path('pst')} = ${x.value(statusIndexKey(status, name))}`,
          `${x.path('dv')} = ${x.value(expected.version + 1)}`,
        );
        return {
          update: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`${x.path('ver')} = ${x.value(expected.version)}`, `${x.path('ps')} = ${x.value(expected.processingStatus)}`),
        };
      });
    },

    /**
     * Records the processing status computed from the image at `version`. Later images win, so two
     * completions landing out of order cannot leave a stale status behind; the same status is never written
     * twice. Returns the image it replaced (the previous status, for the counters), or undefined if refused.
     */
    async setProcessingStatus(name: string, version: number, status: ProcessingStatus): Promise<TransientRecord | undefined> {
      const result = await conditionalUpdate(
        name,
        'status',
        (x) => ({
          update: `SET ${x.path('ps')} = ${x.value(status)}, ${x.path('pst')} = ${x.value(statusIndexKey(status, name))}, ${x.path('dv')} = ${x.value(version)}`,
          condition: and(
            `attribute_exists(${x.path('pk')})`,
            `${x.path('ps')} <> ${x.value(status)}`,
            or(`attribute_not_exists(${x.path('dv')})`, `${x.path('dv')} < ${x.value(version)}`),
          ),
        }),
        'ALL_OLD',
      );
      return result.ok ? result.record : undefined;
    },

    /** Moves transients between the counters' buckets (atomic ADDs on one counter item). */
    async addCounts(shard: number, delta: CountDelta): Promise<void> {
      const entries = Object.entries(delta).filter(([, value]) => value !== 0);
      if (entries.length === 0) return;
      const x = new ExpressionBuilder();
      const result = await doc.send(
        new UpdateCommand({
          TableName,
          Key: keys.counters(shard % COUNTER_SHARDS),
          UpdateExpression: `ADD ${entries.map(([bucket, value]) => `${x.path(bucket)} ${x.value(value)}`).join(', ')}`,
          ExpressionAttributeNames: x.attributeNames,
          ExpressionAttributeValues: x.attributeValues,
          ReturnConsumedCapacity,
        }),
      );
      meter?.record('counts', result.ConsumedCapacity);
    },

    /** The counters summed over their items: one BatchGetItem, whatever the number of transients. */
    async readCounts(): Promise<Record<CountBucket, number>> {
      const totals: Record<CountBucket, number> = { waiting: 0, processing: 0, blocked: 0, completed: 0 };
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

    async deleteTransient(name: string): Promise<void> {
      const result = await doc.send(new DeleteCommand({ TableName, Key: keys.transient(name), ReturnConsumedCapacity }));
      meter?.record('delete', result.ConsumedCapacity);
    },

    async putMarkers(markers: readonly ReadyMarker[]): Promise<void> {
      await batchWrite(markers.map((marker) => ({ PutRequest: { Item: encodeMarker(marker) } })), 'putMarkers');
    },

    async deleteMarkers(markers: readonly ReadyMarker[]): Promise<void> {
      await batchWrite(
        markers.map((marker) => ({ DeleteRequest: { Key: keys.marker(marker.task, marker.shard, marker.priority) } })),
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
      const { pk } = keys.marker(task, shard, '');
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
        markers: items.map((item) => ({ task, shard, priority: item.sk as string, name: item.name as string, readyAt: item.at as number })),
        ...(result.LastEvaluatedKey ? { nextKey: result.LastEvaluatedKey } : {}),
      };
    },

    /**
     * One page of a processing-status index partition (`status#shard`), oldest public timestamp first,
     * starting after the priority key `after`. The index holds keys only: the names, not the registers.
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
     * A lease on dispatching one task, so overlapping dispatcher runs never send the same marker twice. The
     * owner may take it again (its first put landed but the reply was lost and the SDK sent it again).
     */
    async acquireLock(task: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
      try {
        const result = await doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.lock(task), owner, until: now + leaseMs },
            ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now, ':owner': owner },
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

    /** Saves a task's results; a run that claimed earlier never overwrites a later run's results. */
    async saveOutput(name: string, task: string, data: Record<string, unknown>, claimedAt: number): Promise<boolean> {
      try {
        const result = await doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.output(name, task), data, claimedAt, at: Date.now() },
            ConditionExpression: 'attribute_not_exists(claimedAt) OR claimedAt <= :claimedAt',
            ExpressionAttributeValues: { ':claimedAt': claimedAt },
            ReturnConsumedCapacity,
          }),
        );
        meter?.record('saveOutput', result.ConsumedCapacity);
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async readOutput<T extends object>(name: string, task: string): Promise<T | undefined> {
      const result = await doc.send(new GetCommand({ TableName, Key: keys.output(name, task), ConsistentRead: true, ReturnConsumedCapacity }));
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

