/** Lock items (`LOCK#<task>`, `LOCK`): a lease on one task's dispatching or one system runner's run. */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LockStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, isConditionFailure, on } from './access';
import { keys } from './encoding';

export const lockAccess: Readonly<Record<StoreMethod<'locks'>, readonly TableAccess[]>> = {
  acquire: on('lock', 'PutItem'),
  release: on('lock', 'DeleteItem'),
};

export const dynamoLocks = (table: Table): LockStore => ({
  async acquire(task, owner, lease) {
    try {
      await table.send(
        'lock',
        new PutCommand({
          TableName: table.name,
          Item: { ...keys.lock(task), owner, until: lease.until },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :expired OR #owner = :owner',
          ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
          ExpressionAttributeValues: { ':expired': lease.expiredBefore, ':owner': owner },
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  async release(task, owner) {
    try {
      await table.send(
        'unlock',
        new DeleteCommand({
          TableName: table.name,
          Key: keys.lock(task),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  },
});
