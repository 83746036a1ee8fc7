/** System-state items (`SYS#<task>`, `STATE`): a small record a system runner keeps between runs. */
import { GetCommand, type GetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StoreMethod, SystemStateStore } from '../../engine/store';
import { type Table, type TableAccess, on } from './access';
import { keys } from './encoding';

export const systemStateAccess: Readonly<Record<StoreMethod<'systemState'>, readonly TableAccess[]>> = {
  read: on('systemState', 'GetItem'),
  write: on('systemState', 'PutItem'),
};

export const dynamoSystemState = (table: Table): SystemStateStore => ({
  async read(task) {
    const result = await table.send<GetCommandOutput>(
      'readSystemState',
      new GetCommand({ TableName: table.name, Key: keys.systemState(task), ConsistentRead: true, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
      (output) => (output.Item ? 1 : 0),
    );
    const state: unknown = result.Item?.state;
    return state !== null && typeof state === 'object' && !Array.isArray(state) ? (state as Record<string, unknown>) : undefined;
  },

  async write(task, state, now) {
    await table.send('writeSystemState', new PutCommand({ TableName: table.name, Item: { ...keys.systemState(task), state, at: now }, ReturnConsumedCapacity: table.ReturnConsumedCapacity }));
  },
});
