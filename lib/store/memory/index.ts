/**
 * The storage port in memory: the same conditions as the DynamoDB adapter (the conformance suite holds both to
 * them), each write atomic as DynamoDB's are, every record handed out as a copy. For tests of the engine's rules
 * that need no database; nothing in the deployed functions uses it.
 */
import { Status } from '../../domain/catalog';
import { type CountBucket, countBuckets, statusOfBucket } from '../../domain/counts';
import { priorityKey, shardOf } from '../../domain/ordering';
import { type Register, type Registers, messageOfClaim, statusOf } from '../../domain/workflow';
import { Lane } from '../../domain/lanes';
import {
  type BackfillRecord,
  COUNTER_SHARDS,
  type CounterShard,
  type DeadLetterRecord,
  type Page,
  type ReadyMarker,
  type RunOutput,
  type RunRecord,
  STATUS_INDEX_SHARDS,
  type TaskStore,
  type TransientRecord,
} from '../../engine/store';

/** A transient as held: the record, and the bookkeeping fields of the DynamoDB item. */
interface Held {
  record: TransientRecord;
  /** The version the stored bucket was derived at. */
  derivedAt?: number;
}

const copy = <T>(value: T): T => structuredClone(value);
const emptyCounts = (): Record<CountBucket, number> => ({ waiting: 0, processing: 0, blocked: 0, completed: 0 });

/** Items after a cursor (the last key of the previous page), `limit` at a time, in key order. */
const pageOf = <T>(entries: readonly (readonly [string, T])[], limit: number, cursor: string | undefined): Page<T> => {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).filter(([key]) => cursor === undefined || key > cursor);
  const taken = sorted.slice(0, limit);
  const last = taken.at(-1);
  return { items: taken.map(([, item]) => copy(item)), ...(sorted.length > limit && last ? { next: last[0] } : {}) };
};

/** Whether a task's register lets this claim take it (DynamoDB's claim condition, in TypeScript). */
const claimable = (current: Register | undefined, register: Register, now: number): boolean => {
  if (!current) return true;
  if (current.status === Status.NotProcessed) {
    const ownMessage = `${messageOfClaim(register.claim ?? '')}.`;
    return current.retryAt === undefined || current.retryAt <= now || (current.claim ?? '').startsWith(ownMessage);
  }
  return current.status === Status.Processing && current.leaseUntil !== undefined && current.leaseUntil < now;
};

export const memoryTaskStore = (): TaskStore => {
  const transients = new Map<string, Held>();
  const markers = new Map<string, Map<string, ReadyMarker>>();
  const locks = new Map<string, { owner: string; until: number }>();
  const outputs = new Map<string, RunOutput>();
  const history = new Map<string, RunRecord>();
  const deadLetters = new Map<string, Map<string, DeadLetterRecord>>();
  const counters = new Map<number, CounterShard>();
  const systemState = new Map<string, Record<string, unknown>>();
  const backfills = new Map<string, BackfillRecord>();

  // The backfill lane's markers sort after the live lane's, as in the DynamoDB adapter's sort key.
  const markerKey = (marker: ReadyMarker) => `${marker.lane === Lane.Backfill ? '~' : ''}${marker.priority}#${marker.id}`;
  const shardOfMarkers = (task: string, shard: number) => {
    const key = `${task}#${shard}`;
    let found = markers.get(key);
    if (!found) {
      found = new Map();
      markers.set(key, found);
    }
    return found;
  };
  const putMarkers = (list: readonly ReadyMarker[]) => list.forEach((marker) => shardOfMarkers(marker.task, marker.shard).set(markerKey(marker), copy(marker)));
  const refused = (name: string): { ok: false; current: TransientRecord | undefined } => {
    const held = transients.get(name);
    return { ok: false, current: held ? copy(held.record) : undefined };
  };
  /** Writes a new version of a held transient. */
  const write = (held: Held, record: Omit<TransientRecord, 'version'>, derivedAt?: number): TransientRecord => {
    held.record = { ...record, version: held.record.version + 1 };
    if (derivedAt !== undefined) held.derivedAt = derivedAt;
    return copy(held.record);
  };
  const withBucket = <R extends Omit<TransientRecord, 'version'>>(record: R, bucket: CountBucket): R => ({ ...record, bucket, processingStatus: statusOfBucket(bucket) });

  return {
    transients: {
      async get(name) {
        const held = transients.get(name);
        return held ? copy(held.record) : undefined;
      },

      async getMany(names) {
        return [...new Set(names)].flatMap((name) => {
          const held = transients.get(name);
          return held ? [copy(held.record)] : [];
        });
      },

      async create(entries, now) {
        const created: string[] = [];
        const existing: string[] = [];
        for (const entry of entries) {
          if (transients.has(entry.transient.name)) {
            existing.push(entry.transient.name);
            continue;
          }
          transients.set(entry.transient.name, {
            record: { transient: copy(entry.transient), registers: copy(entry.registers), version: 0, bucket: entry.bucket, processingStatus: statusOfBucket(entry.bucket), createdAt: now },
          });
          putMarkers(entry.markers);
          created.push(entry.transient.name);
        }
        return { created, existing, rejected: [] };
      },

      async claim(name, spec, register, now) {
        const held = transients.get(name);
        if (!held) return refused(name);
        const { registers } = held.record;
        const current = registers[spec.task];
        const generationHolds = (current?.generation ?? 0) === (register.generation ?? 0);
        const prerequisitesHold = Object.entries(spec.prerequisites).every(([task, wanted]) => task === spec.task || statusOf(registers, task) === wanted);
        if (claimable(current, register, now) && generationHolds && prerequisitesHold) {
          return {
            ok: true,
            record: write(held, { ...held.record, registers: { ...registers, [spec.task]: copy(register) } }),
            ...(current ? { previous: copy(current) } : {}),
          };
        }
        // Refused by its own earlier landing: the claim is held all the same.
        if (register.claim !== undefined && current?.claim === register.claim && current.status === Status.Processing) return { ok: true, record: copy(held.record) };
        return refused(name);
      },

      async settle(name, task, token, register, move) {
        const held = transients.get(name);
        const current = held?.record.registers[task];
        if (!held || current?.claim !== token || current.status !== Status.Processing) {
          // Its own earlier landing (a reply lost, the call sent again) is settled.
          if (held && current?.claim === token && current.status === register.status && current.lastModified === register.lastModified) {
            return { ok: true, record: copy(held.record), bucketWritten: move !== undefined };
          }
          return refused(name);
        }
        const registers: Registers = { ...held.record.registers, [task]: copy(register) };
        if (move && held.record.version === move.version && held.record.bucket === move.from) {
          return { ok: true, record: write(held, withBucket({ ...held.record, registers }, move.to), move.version + 1), bucketWritten: true };
        }
        return { ok: true, record: write(held, { ...held.record, registers }), bucketWritten: false };
      },

      async extendLease(name, task, token, leaseUntil) {
        const held = transients.get(name);
        const current = held?.record.registers[task];
        if (!held || !current || current.claim !== token || current.status !== Status.Processing) return refused(name);
        return { ok: true, record: write(held, { ...held.record, registers: { ...held.record.registers, [task]: { ...current, leaseUntil } } }) };
      },

      async replace(name, expected, registers, bucket, options = {}) {
        const held = transients.get(name);
        if (!held || held.record.version !== expected.version || held.record.bucket !== expected.bucket) return refused(name);
        const record = write(
          held,
          withBucket(
            {
              ...held.record,
              ...(options.transient ? { transient: copy(options.transient) } : {}),
              ...(options.writer === undefined ? {} : { bucketWriter: options.writer }),
              registers: { ...held.record.registers, ...copy(registers) },
            },
            bucket,
          ),
          expected.version + 1,
        );
        putMarkers(options.markers ?? []);
        return { ok: true, record };
      },

      async setBucket(name, move, writer) {
        const held = transients.get(name);
        if (!held) return false;
        if (held.record.bucket === move.from && (held.derivedAt === undefined || held.derivedAt < move.version)) {
          held.record = { ...withBucket(held.record, move.to), bucketWriter: writer };
          held.derivedAt = move.version;
          return true;
        }
        return held.record.bucket === move.to && held.record.bucketWriter === writer;
      },

      async delete(name) {
        const held = transients.get(name);
        transients.delete(name);
        return held ? copy(held.record) : undefined;
      },

      async statusPage(status, shard, limit, after) {
        const entries = [...transients.values()]
          .map((held) => held.record)
          .filter((record) => record.processingStatus === status && shardOf(record.transient.name, STATUS_INDEX_SHARDS) === shard)
          .map((record) => ({ name: record.transient.name, priority: priorityKey(record.transient) }))
          .filter((entry) => after === undefined || entry.priority > after)
          .sort((a, b) => (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0));
        return { entries: entries.slice(0, limit), more: entries.length > limit };
      },

      async countShard(shard) {
        const counts = emptyCounts();
        for (const { record } of transients.values()) if (shardOf(record.transient.name, STATUS_INDEX_SHARDS) === shard) counts[record.bucket] += 1;
        return counts;
      },
    },

    readiness: {
      async put(list) {
        putMarkers(list);
      },
      async delete(list) {
        for (const marker of list) markers.get(`${marker.task}#${marker.shard}`)?.delete(markerKey(marker));
      },
      async page(task, shard, limit, cursor, lane) {
        const all = [...(markers.get(`${task}#${shard}`) ?? new Map<string, ReadyMarker>())];
        return pageOf(lane === undefined ? all : all.filter(([, marker]) => (marker.lane ?? Lane.Live) === lane), limit, cursor);
      },
    },

    locks: {
      async acquire(task, owner, lease) {
        const held = locks.get(task);
        if (held && held.owner !== owner && held.until >= lease.expiredBefore) return false;
        locks.set(task, { owner, until: lease.until });
        return true;
      },
      async release(task, owner) {
        if (locks.get(task)?.owner === owner) locks.delete(task);
      },
    },

    outputs: {
      async save(name, task, token, output) {
        outputs.set(JSON.stringify([name, task, token]), copy(output));
      },
      async read(name, task, token) {
        const output = outputs.get(JSON.stringify([name, task, token]));
        return output === undefined ? undefined : copy(output);
      },
    },

    history: {
      async record(run, options) {
        const key = `${run.name}\u0000${run.task}#${String(run.startedAt).padStart(15, '0')}#${run.run}`;
        if (options?.ifAbsent && history.has(key)) return;
        history.set(key, copy(run));
      },
      async list(name, task, limit = 100, cursor) {
        const prefix = `${name}\u0000${task === undefined ? '' : `${task}#`}`;
        // Newest first within a task, as DynamoDB's descending Query: keys in reverse order, the cursor the last one given.
        const entries = [...history].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
        const after = cursor === undefined ? entries : entries.filter(([key]) => key < cursor);
        const taken = after.slice(0, limit);
        const last = taken.at(-1);
        return { items: taken.map(([, run]) => copy(run)), ...(after.length > limit && last ? { next: last[0] } : {}) };
      },
    },

    deadLetters: {
      async put(record) {
        const byName = deadLetters.get(record.task) ?? new Map<string, DeadLetterRecord>();
        byName.set(record.name, copy(record));
        deadLetters.set(record.task, byName);
      },
      async page(task, limit, cursor) {
        return pageOf([...(deadLetters.get(task) ?? new Map<string, DeadLetterRecord>())], limit, cursor);
      },
      async delete(task, name, messageId) {
        const byName = deadLetters.get(task);
        if (messageId === undefined || byName?.get(name)?.messageId === messageId) byName?.delete(name);
      },
    },

    counters: {
      async add(shard, delta) {
        const current = counters.get(shard % COUNTER_SHARDS) ?? { counts: emptyCounts(), version: 0 };
        const counts = { ...current.counts };
        for (const bucket of countBuckets) counts[bucket] += delta[bucket] ?? 0;
        counters.set(shard % COUNTER_SHARDS, { counts, version: current.version + 1 });
      },
      async read() {
        const totals = emptyCounts();
        for (const { counts } of counters.values()) for (const bucket of countBuckets) totals[bucket] += counts[bucket];
        return totals;
      },
      async readShard(shard) {
        return copy(counters.get(shard) ?? { counts: emptyCounts(), version: 0 });
      },
      async repairShard(shard, version, counts) {
        const current = counters.get(shard) ?? { counts: emptyCounts(), version: 0 };
        if (current.version !== version) return false;
        counters.set(shard, { counts: { ...counts }, version: version + 1 });
        return true;
      },
    },

    systemState: {
      async read(task) {
        const state = systemState.get(task);
        return state === undefined ? undefined : copy(state);
      },
      async write(task, state) {
        systemState.set(task, copy(state));
      },
    },

    backfills: {
      async get(id) {
        const record = backfills.get(id);
        return record === undefined ? undefined : copy(record);
      },
      async save(id, state, expected) {
        if (backfills.get(id)?.revision !== expected) return undefined;
        const record = { id, revision: (expected ?? 0) + 1, state: copy(state) };
        backfills.set(id, record);
        return copy(record);
      },
      async list() {
        return [...backfills.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy);
      },
    },
  };
};
