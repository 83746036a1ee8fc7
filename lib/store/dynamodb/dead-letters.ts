/** Dead-letter records (`DEAD#<task>`, `<transient name>`): the messages that used up their deliveries, with why. */
import { DeleteCommand, PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DeadLetterRecord, DeadLetterStore, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, fromCursor, isConditionFailure, on, toCursor } from './access';
import { keys } from './encoding';

export const deadLetterAccess: Readonly<Record<StoreMethod<'deadLetters'>, readonly TableAccess[]>> = {
  put: on('deadLetter', 'PutItem'),
  page: on('deadLetter', 'Query'),
  delete: on('deadLetter', 'DeleteItem'),
};

export const dynamoDeadLetters = (table: Table): DeadLetterStore => ({
  async put(record) {
    await table.send(
      'putDeadLetter',
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.deadLetter(record.task, record.name), body: record.body, reason: record.reason, receiveCount: record.receiveCount, messageId: record.messageId, at: record.at },
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
    );
  },

  async page(task, limit, cursor) {
    const result = await table.send<QueryCommandOutput>(
      'deadLetters',
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.deadLetter(task, '').pk },
        Limit: limit,
        ExclusiveStartKey: fromCursor(cursor),
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
      (output) => output.Items?.length ?? 0,
    );
    const items: DeadLetterRecord[] = (result.Items ?? []).map((item) => ({
      task,
      name: item.sk as string,
      body: item.body as string,
      reason: item.reason as string,
      receiveCount: item.receiveCount as number,
      messageId: item.messageId as string,
      at: item.at as number,
    }));
    const next = toCursor(result.LastEvaluatedKey);
    return { items, ...(next ? { next } : {}) };
  },

  async delete(task, name, messageId) {
    try {
      await table.send(
        'deleteDeadLetter',
        new DeleteCommand({
          TableName: table.name,
          Key: keys.deadLetter(task, name),
          ...(messageId === undefined ? {} : { ConditionExpression: 'messageId = :id', ExpressionAttributeValues: { ':id': messageId } }),
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  },
});
