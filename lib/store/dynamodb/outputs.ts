/**
 * Output items (`T#<name>`, `OUT#<task>#<token>`): what a run saved and the artifacts it put, under its claim token. Nothing is
 * overwritten: a later task reads the output of the run whose token the register records.
 */
import { GetCommand, type GetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Artifact, ArtifactManifest } from '../../domain/artifacts';
import type { OutputStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, on } from './access';
import { keys } from './encoding';

export const outputAccess: Readonly<Record<StoreMethod<'outputs'>, readonly TableAccess[]>> = {
  save: on('transient', 'PutItem'),
  read: on('transient', 'GetItem'),
};

export const dynamoOutputs = (table: Table): OutputStore => ({
  async save(name, task, token, output, now) {
    const { data, spilled, artifacts } = output;
    await table.send(
      'saveOutput',
      new PutCommand({ TableName: table.name, Item: { ...keys.output(name, task, token), data, spilled, artifacts, at: now }, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
    );
  },

  async read(name, task, token) {
    const result = await table.send<GetCommandOutput>(
      'readOutput',
      new GetCommand({ TableName: table.name, Key: keys.output(name, task, token), ConsistentRead: true, ReturnConsumedCapacity: table.ReturnConsumedCapacity }),
      (output) => (output.Item ? 1 : 0),
    );
    const item = result.Item;
    if (!item) return undefined;
    return {
      ...(item.data === undefined ? {} : { data: item.data as Record<string, unknown> }),
      ...(item.spilled === undefined ? {} : { spilled: item.spilled as Artifact }),
      ...(item.artifacts === undefined ? {} : { artifacts: item.artifacts as ArtifactManifest }),
    };
  },
});
