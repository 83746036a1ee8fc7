/**
 * Ready-marker items (`READY#<task>#<shard>`, `<priority>#<id>`): the sparse ready index the dispatcher reads in
 * Blast's priority order. Each write makes an item of its own, so a delete removes exactly the markers read.
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { ReadinessStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, fromCursor, on, toCursor } from './access';
import { Lane } from '../../domain/lanes';
import { BACKFILL_MARKER, decodeMarker, encodeMarker, keys } from './encoding';

export const readinessAccess: Readonly<Record<StoreMethod<'readiness'>, readonly TableAccess[]>> = {
  put: on('ready', 'BatchWriteItem'),
  delete: on('ready', 'BatchWriteItem'),
  page: on('ready', 'Query'),
};

export const dynamoReadiness = (table: Table): ReadinessStore => ({
  async put(markers) {
    await table.batchWrite('putMarkers', markers.map((marker) => ({ PutRequest: { Item: encodeMarker(marker) } })));
  },

  async delete(markers) {
    await table.batchWrite('deleteMarkers', markers.map((marker) => ({ DeleteRequest: { Key: keys.marker(marker.task, marker.shard, marker.priority, marker.id, marker.lane) } })));
  },

  async page(task, shard, limit, cursor, lane) {
    const { pk } = keys.marker(task, shard, '', '');
    // The backfill lane's sort keys start with BACKFILL_MARKER, after every live one's.
    const section = lane === undefined ? '' : lane === Lane.Backfill ? ' AND begins_with(sk, :lane)' : ' AND sk < :lane';
    const result = await table.send<QueryCommandOutput>(
      'readyPage',
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: `pk = :pk${section}`,
        ExpressionAttributeValues: { ':pk': pk, ...(lane === undefined ? {} : { ':lane': BACKFILL_MARKER }) },
        Limit: limit,
        ExclusiveStartKey: fromCursor(cursor),
        ConsistentRead: true,
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
      (output) => output.Items?.length ?? 0,
    );
    const next = toCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map((item) => decodeMarker(task, shard, item)), ...(next ? { next } : {}) };
  },
});
