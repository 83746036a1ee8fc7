/**
 * Run-history items (`T#<name>`, `RUN#<task>#<start>#<token>`): one per attempt, beside the transient's item so that
 * the register item, rewritten at every claim and settle, stays small. Written whole (PutItem, no read) at the claim
 * and at the settle; DynamoDB's TTL deletes each once its `ttl` (epoch seconds) has passed.
 */
import { PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { RunInputs } from '../../domain/staleness';
import type { HistoryStore, Invocation, RunRecord, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, fromCursor, on, toCursor } from './access';
import { RUN_PREFIX, keys } from './encoding';

/** The attribute the table's TTL is set on (lib/constructs/task-table.ts). */
export const TTL_ATTRIBUTE = 'ttl';

export const historyAccess: Readonly<Record<StoreMethod<'history'>, readonly TableAccess[]>> = {
  record: on('transient', 'PutItem'),
  list: on('transient', 'Query'),
};

const DEFAULT_PAGE = 100;

export const dynamoHistory = (table: Table): HistoryStore => ({
  async record(run) {
    const { name, task, startedAt, expiresAt, ...rest } = run;
    await table.send(
      'recordRun',
      new PutCommand({
        TableName: table.name,
        Item: { ...keys.run(name, task, startedAt, run.run), ...rest, task, startedAt, [TTL_ATTRIBUTE]: expiresAt },
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
    );
  },

  async list(name, task, limit = DEFAULT_PAGE, cursor) {
    const { pk } = keys.transient(name);
    const result = await table.send<QueryCommandOutput>(
      'runHistory',
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': task === undefined ? RUN_PREFIX : `${RUN_PREFIX}${task}#` },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: fromCursor(cursor),
        ReturnConsumedCapacity: table.ReturnConsumedCapacity,
      }),
      (output) => output.Items?.length ?? 0,
    );
    const items = (result.Items ?? []).map(
      (item): RunRecord => ({
        name,
        task: item.task as string,
        run: item.run as string,
        attempt: item.attempt as number,
        startedAt: item.startedAt as number,
        ...(item.endedAt === undefined ? {} : { endedAt: item.endedAt as number }),
        ...(item.durationMs === undefined ? {} : { durationMs: item.durationMs as number }),
        status: item.status as string,
        ...(item.error === undefined ? {} : { error: item.error as string }),
        ...(item.recorded === undefined ? {} : { recorded: item.recorded as boolean }),
        version: item.version as string,
        fingerprint: item.fingerprint as string,
        inputs: item.inputs as RunInputs,
        ...(item.invocation === undefined ? {} : { invocation: item.invocation as Invocation }),
        ...(item.artifacts === undefined ? {} : { artifacts: item.artifacts as string[] }),
        expiresAt: item[TTL_ATTRIBUTE] as number,
      }),
    );
    const next = toCursor(result.LastEvaluatedKey);
    return { items, ...(next ? { next } : {}) };
  },
});
