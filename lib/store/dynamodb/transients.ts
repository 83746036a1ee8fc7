/**
 * Transient items (`T#<name>`, `STATE`): a transient's data, every task register, its counters' bucket and the
 * status-index keys, so that a claim is one conditional UpdateItem. Creates and replaces that record ready
 * markers write them in the same transaction.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DeleteCommandOutput, GetCommand, type GetCommandOutput, QueryCommand, type QueryCommandOutput, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { chunk } from '../../engine/concurrency';
import { Status } from '../../domain/catalog';
import { CountBucket, statusOfBucket } from '../../domain/counts';
import { ProcessingStatus, type Register, type Registers, type TaskSpec, messageOfClaim } from '../../domain/workflow';
import {
  type BucketMove,
  type CreateEntry,
  type CreateResult,
  type ReplaceOptions,
  type SettleResult,
  type StoreMethod,
  StoreRefusedError,
  type TransientRecord,
  type TransientStore,
  type ClaimResult,
  type WriteResult,
} from '../../engine/store';
import { type Table, type TableAccess, isRefusedAsItIs, on } from './access';
import { bucketAttributes, bucketCodes, dataAttributes, decodeRegister, decodeTransient, encodeMarker, encodeRegister, encodeTransient, keys } from './encoding';
import { ExpressionBuilder, and, or } from './expressions';
import { tableSchema } from './table';

/** The DynamoDB actions each method calls, on which items (a transaction is authorised per item: the transient's, its markers'). */
export const transientAccess: Readonly<Record<StoreMethod<'transients'>, readonly TableAccess[]>> = {
  get: on('transient', 'GetItem'),
  getMany: on('transient', 'BatchGetItem'),
  create: [...on('transient', 'PutItem'), ...on('ready', 'PutItem')],
  claim: on('transient', 'UpdateItem'),
  settle: on('transient', 'UpdateItem'),
  extendLease: on('transient', 'UpdateItem'),
  replace: [...on('transient', 'UpdateItem'), ...on('ready', 'PutItem')],
  setBucket: on('transient', 'UpdateItem'),
  delete: on('transient', 'DeleteItem'),
  statusPage: on('status', 'Query'),
  countShard: on('status', 'Query'),
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `SET` clauses of a bucket move: the bucket and its status-index partition. */
const bucketSets = (x: ExpressionBuilder, name: string, bucket: CountBucket) =>
  Object.entries(bucketAttributes(name, bucket)).map(([attribute, value]) => `${x.path(attribute)} = ${x.value(value)}`);

/** The stored bucket is `bucket` (an item written before buckets were stored counts as waiting). */
const bucketIs = (x: ExpressionBuilder, bucket: CountBucket) =>
  bucket === CountBucket.Waiting
    ? or(`attribute_not_exists(${x.path('cb')})`, `${x.path('cb')} = ${x.value(bucketCodes[bucket])}`)
    : `${x.path('cb')} = ${x.value(bucketCodes[bucket])}`;

export const dynamoTransients = (table: Table): TransientStore => {
  const TableName = table.name;
  const { ReturnConsumedCapacity } = table;

  const store: TransientStore = {
    async get(name) {
      const result = await table.send<GetCommandOutput>('get', new GetCommand({ TableName, Key: keys.transient(name), ConsistentRead: true, ReturnConsumedCapacity }), (output) =>
        output.Item ? 1 : 0,
      );
      return result.Item ? decodeTransient(result.Item) : undefined;
    },

    async getMany(names) {
      const items = await table.batchGet('getMany', [...new Set(names)].map((name) => keys.transient(name)));
      return items.map(decodeTransient);
    },

    async create(entries: readonly CreateEntry[], now: number): Promise<CreateResult> {
      const created: string[] = [];
      const existing: string[] = [];
      const rejected: { name: string; reason: string }[] = [];
      const perTransaction = Math.max(1, Math.floor(100 / (1 + Math.max(0, ...entries.map((entry) => entry.markers.length)))));
      const transact = async (group: readonly CreateEntry[]) => {
        let pending = group;
        for (let attempt = 0; pending.length > 0; attempt++) {
          const items = pending.flatMap((entry) => [
            { Put: { TableName, Item: encodeTransient(entry.transient, entry.registers, entry.bucket, now), ConditionExpression: 'attribute_not_exists(pk)' } },
            ...entry.markers.map((marker) => ({ Put: { TableName, Item: encodeMarker(marker) } })),
          ]);
          try {
            await table.send('create', new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity }));
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

    async claim(name: string, spec: TaskSpec, register: Register, now: number): Promise<ClaimResult> {
      // The old image comes back (ALL_OLD, no more capacity than ALL_NEW): the register the claim replaced, which
      // names an attempt that never settled; the new image is the old one with the claim's two changes.
      const result = await table.conditionalUpdate(
        name,
        'claim',
        (x) => {
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
        // Only a message of the register's generation: one sent before a reset leaves the task to the reset's own.
        const generation = register.generation ?? 0;
        const ownGeneration = generation === 0 ? or(`attribute_not_exists(${own('g')})`, `${own('g')} = ${x.value(0)}`) : `${own('g')} = ${x.value(generation)}`;
        const prerequisites = Object.entries(spec.prerequisites)
          .filter(([task]) => task !== spec.task)
          .map(([task, wanted]) =>
            wanted === Status.NotProcessed
              ? or(`attribute_not_exists(${x.path('r', task)})`, `${x.path('r', task, 's')} = ${x.value(wanted)}`)
              : `${x.path('r', task, 's')} = ${x.value(wanted)}`,
          );
        return {
          update: `SET ${own()} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`attribute_exists(${x.path('pk')})`, ownClaimable, ownGeneration, ...prerequisites),
        };
        },
        'ALL_OLD',
      );
      if (result.ok) {
        const old = result.record;
        const previous = old.registers[spec.task];
        const record = { ...old, registers: { ...old.registers, [spec.task]: decodeRegister(encodeRegister(register)) }, version: old.version + 1 };
        return { ok: true, record, ...(previous ? { previous } : {}) };
      }
      if (!result.current) return result;
      // Refused by its own earlier landing (a reply lost, the call sent again): the token is unique to this
      // invocation, so the claim is held all the same.
      const held = result.current.registers[spec.task];
      return register.claim !== undefined && held?.claim === register.claim && held.status === Status.Processing ? { ok: true, record: result.current } : result;
    },

    async settle(name: string, task: string, token: string, register: Register, move?: BucketMove): Promise<SettleResult> {
      const held = (x: ExpressionBuilder) => and(`${x.path('r', task, 'c')} = ${x.value(token)}`, `${x.path('r', task, 's')} = ${x.value(Status.Processing)}`);
      const ownLanding = (current: TransientRecord | undefined): boolean => {
        const now = current?.registers[task];
        return now?.claim === token && now.status === register.status && now.lastModified === register.lastModified;
      };
      const plain = async (): Promise<SettleResult> => {
        const result = await table.conditionalUpdate(name, 'settle', (x) => ({
          update: `SET ${x.path('r', task)} = ${x.value(encodeRegister(register))} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: held(x),
        }));
        if (result.ok) return { ...result, bucketWritten: false };
        return result.current && ownLanding(result.current) ? { ok: true, record: result.current, bucketWritten: false } : result;
      };
      if (!move) return plain();
      const result = await table.conditionalUpdate(name, 'settle', (x) => ({
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

    async extendLease(name: string, task: string, token: string, leaseUntil: number): Promise<WriteResult> {
      return table.conditionalUpdate(name, 'extendLease', (x) => ({
        update: `SET ${x.path('r', task, 'l')} = ${x.value(leaseUntil)} ADD ${x.path('ver')} ${x.value(1)}`,
        condition: and(`${x.path('r', task, 'c')} = ${x.value(token)}`, `${x.path('r', task, 's')} = ${x.value(Status.Processing)}`),
      }));
    },

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
        if (options.writer !== undefined) sets.push(`${x.path('dw')} = ${x.value(options.writer)}`);
        return {
          update: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD ${x.path('ver')} ${x.value(1)}`,
          condition: and(`${x.path('ver')} = ${x.value(expected.version)}`, bucketIs(x, expected.bucket)),
        };
      };
      const markers = options.markers ?? [];
      if (markers.length === 0) {
        const result = await table.conditionalUpdate(name, 'replace', build);
        // Refused by its own earlier landing (a reply lost, the call sent again): written all the same.
        if (!result.ok && options.writer !== undefined && result.current?.bucketWriter === options.writer) return { ok: true, record: result.current };
        return result;
      }
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
        await table.send(
          'replace',
          new TransactWriteCommand({ TransactItems: [{ Update }, ...markers.map((marker) => ({ Put: { TableName, Item: encodeMarker(marker) } }))], ReturnConsumedCapacity }),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const [reason] = reasons;
        if (reason?.Code === 'ConditionalCheckFailed') {
          const item = reason.Item ? unmarshall(reason.Item as Parameters<typeof unmarshall>[0]) : undefined;
          table.recordRefused('replace', item);
          return { ok: false, current: item ? decodeTransient(item) : undefined };
        }
        // Another transaction on the item (TransactionConflict): read it again, as for a refused condition.
        if (reasons.some((candidate) => candidate.Code === 'TransactionConflict')) return { ok: false, current: await store.get(name) };
        if (isRefusedAsItIs(error)) throw new StoreRefusedError(reasons.find((candidate) => candidate.Message)?.Message ?? error.message, { cause: error });
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

    async setBucket(name: string, move: BucketMove, writer: string): Promise<boolean> {
      const result = await table.conditionalUpdate(
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

    async delete(name) {
      const result = await table.send<DeleteCommandOutput>('delete', new DeleteCommand({ TableName, Key: keys.transient(name), ReturnValues: 'ALL_OLD', ReturnConsumedCapacity }));
      return result.Attributes ? decodeTransient(result.Attributes) : undefined;
    },

    async statusPage(status, shard, limit, after) {
      const result = await table.send<QueryCommandOutput>(
        'statusPage',
        new QueryCommand({
          TableName,
          IndexName: tableSchema.statusIndex.name,
          KeyConditionExpression: after === undefined ? 'pst = :pst' : 'pst = :pst AND pts > :after',
          ExpressionAttributeValues: { ':pst': `${status}#${shard}`, ...(after === undefined ? {} : { ':after': after }) },
          Limit: limit,
          ReturnConsumedCapacity,
        }),
        (output) => output.Items?.length ?? 0,
      );
      return {
        entries: (result.Items ?? []).map((item) => ({ name: (item.pk as string).slice(keys.transient('').pk.length), priority: item.pts as string })),
        more: result.LastEvaluatedKey !== undefined,
      };
    },

    // Blocked and completed partitions are counted by DynamoDB; the processing partition is split into waiting
    // and processing by its projected bucket. Keys and the bucket only: no base-table read.
    async countShard(shard) {
      const counts: Record<CountBucket, number> = { waiting: 0, processing: 0, blocked: 0, completed: 0 };
      for (const status of Object.values(ProcessingStatus)) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const result: QueryCommandOutput = await table.send<QueryCommandOutput>(
            'countIndex',
            new QueryCommand({
              TableName,
              IndexName: tableSchema.statusIndex.name,
              KeyConditionExpression: 'pst = :pst',
              ExpressionAttributeValues: { ':pst': `${status}#${shard}` },
              ...(status === ProcessingStatus.Processing ? { ProjectionExpression: 'cb' } : { Select: 'COUNT' as const }),
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity,
            }),
            (output) => output.Count ?? 0,
          );
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
  };
  return store;
};

