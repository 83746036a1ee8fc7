/**
 * Output items (`T#<name>`, `OUT#<task>#<token>`): what a run saved, under its claim token. Nothing is
 * overwritten: a later task reads the output of the run whose token the register records.
 */
import { GetCommand, type GetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { OutputStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, on } from './access';
import { keys } from './encoding';

export const outputAccess: Readonly<Record<StoreMethod<'outputs'>, readonly TableAccess[]>> = {
  save: on('transient', 'PutItem'),
  read: on('transient', 'GetItem'),
};

export const dynamoOutputs = (table: Table): OutputStore => ({
  async save(name, task, token, data, now) {
    await table.send('saveOutput', new PutCommand({ TableName: table.name, Item: { ...keys.output(name, task, token), data, at: now }, ReturnConsumedCapacity: table.ReturnConsumedCapacity }));
  },

  async read<T extends object>(name: string, task: string, token: string) {
    const result = await table.send<GetCommandOutput>(
      'readOutput',
      new GetCommand({ TableName: table.name, Key: keys.output(name, task, token), ConsistentRead: true, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
      (output) => (output.Item ? 1 : 0),
    );
    return result.Item?.data as T | undefined;
  },
});
