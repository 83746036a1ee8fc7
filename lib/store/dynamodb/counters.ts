/**
 * Counter items (`COUNTS#<shard>`, `COUNTS`): the transients by bucket, spread over shards, with a version
 * every change increments (the recount repairs a shard only if no move changed it meanwhile).
 */
import { GetCommand, type GetCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type CountBucket, countBuckets } from '../../domain/counts';
import { COUNTER_SHARDS, type CounterStore, type StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, isConditionFailure, on } from './access';
import { KeyPrefix, keys } from './encoding';
import { ExpressionBuilder, or } from './expressions';

export const counterAccess: Readonly<Record<StoreMethod<'counters'>, readonly TableAccess[]>> = {
  add: on('counters', 'UpdateItem'),
  read: on('counters', 'BatchGetItem'),
  readShard: on('counters', 'GetItem'),
  repairShard: on('counters', 'UpdateItem'),
};

/**
 * Whether a call writes the counters: an ADD that must never land twice, so the client retries it only after
 * throttling (lib/bootstrap/aws-clients.ts retryOnlyThrottling). A move lost to a timeout is repaired by the recount.
 */
export const isCounterWrite = (commandName: string, input: unknown): boolean => {
  if (commandName !== 'UpdateItemCommand' || typeof input !== 'object' || input === null || !('Key' in input)) return false;
  const key = (input as { Key?: { pk?: { S?: unknown } | string } }).Key?.pk;
  const pk = typeof key === 'string' ? key : key?.S;
  return typeof pk === 'string' && pk.startsWith(KeyPrefix.Counters);
};

const emptyCounts = (): Record<CountBucket, number> => ({ waiting: 0, processing: 0, blocked: 0, completed: 0 });

export const dynamoCounters = (table: Table): CounterStore => ({
  async add(shard, delta) {
    const entries = Object.entries(delta).filter(([, value]) => value !== 0);
    if (entries.length === 0) return;
    const x = new ExpressionBuilder();
    await table.send(
      'counts',
      new UpdateCommand({
        TableName: table.name,
        Key: keys.counters(shard % COUNTER_SHARDS),
        UpdateExpression: `ADD ${[...entries, ['cv', 1] as const].map(([bucket, value]) => `${x.path(bucket)} ${x.value(value)}`).join(', ')}`,
        ExpressionAttributeNames: x.attributeNames,
        ExpressionAttributeValues: x.attributeValues,
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
    );
  },

  async read() {
    const totals = emptyCounts();
    const items = await table.batchGet('readCounts', Array.from({ length: COUNTER_SHARDS }, (_, shard) => keys.counters(shard)));
    for (const item of items) for (const bucket of countBuckets) totals[bucket] += typeof item[bucket] === 'number' ? item[bucket] : 0;
    return totals;
  },

  async readShard(shard) {
    const result = await table.send<GetCommandOutput>(
      'readCounterShard',
      new GetCommand({ TableName: table.name, Key: keys.counters(shard), ConsistentRead: true, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
      (output) => (output.Item ? 1 : 0),
    );
    const counts = emptyCounts();
    for (const bucket of countBuckets) counts[bucket] = typeof result.Item?.[bucket] === 'number' ? result.Item[bucket] : 0;
    return { counts, version: typeof result.Item?.cv === 'number' ? result.Item.cv : 0 };
  },

  async repairShard(shard, version, counts) {
    const x = new ExpressionBuilder();
    try {
      await table.send(
        'repairCounts',
        new UpdateCommand({
          TableName: table.name,
          Key: keys.counters(shard),
          UpdateExpression: `SET ${countBuckets.map((bucket) => `${x.path(bucket)} = ${x.value(counts[bucket])}`).join(', ')} ADD ${x.path('cv')} ${x.value(1)}`,
          ConditionExpression: version === 0 ? or(`attribute_not_exists(${x.path('cv')})`, `${x.path('cv')} = ${x.value(0)}`) : `${x.path('cv')} = ${x.value(version)}`,
          ExpressionAttributeNames: x.attributeNames,
          ExpressionAttributeValues: x.attributeValues,
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },
});
