/** Backfill items (`BACKFILL`, `<id>`): one per backfill, its selection, cursor and counts (lib/engine/backfill.ts). */
import { GetCommand, type GetCommandOutput, PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { BackfillRecord, BackfillStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, fromCursor, isConditionFailure, on, toCursor } from './access';
import { keys } from './encoding';

export const backfillAccess: Readonly<Record<StoreMethod<'backfills'>, readonly TableAccess[]>> = {
  get: on('backfill', 'GetItem'),
  save: on('backfill', 'PutItem'),
  list: on('backfill', 'Query'),
};

type Item = Record<string, unknown>;
const decode = (item: Item): BackfillRecord => ({ id: item.sk as string, revision: item.rev as number, state: item.state as Record<string, unknown> });

export const dynamoBackfills = (table: Table): BackfillStore => ({
  async get(id) {
    const result = await table.send<GetCommandOutput>(
      'readBackfill',
      new GetCommand({ TableName: table.name, Key: keys.backfill(id), ConsistentRead: true, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
      (output) => (output.Item ? 1 : 0),
    );
    return result.Item ? decode(result.Item) : undefined;
  },

  async save(id, state, expected) {
    const revision = (expected ?? 0) + 1;
    try {
      await table.send(
        'writeBackfill',
        new PutCommand({
          TableName: table.name,
          Item: { ...keys.backfill(id), rev: revision, state },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'rev = :expected', ExpressionAttributeValues: { ':expected': expected } }),
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
      return { id, revision, state };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  },

  async list() {
    const records: BackfillRecord[] = [];
    let cursor: string | undefined;
    do {
      const result = await table.send<QueryCommandOutput>(
        'listBackfills',
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.backfill('').pk },
          ExclusiveStartKey: fromCursor(cursor),
          ConsistentRead: true,
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
        (output) => output.Items?.length ?? 0,
      );
      records.push(...(result.Items ?? []).map(decode));
      cursor = toCursor(result.LastEvaluatedKey);
    } while (cursor);
    return records;
  },
});
