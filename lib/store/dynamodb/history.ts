/**
 * Run-history items (`T#<name>`, `RUN#<task>#<start>#<token>`): one per attempt, beside the transient's item so that
 * the register item, rewritten at every claim and settle, stays small. Written whole (an UpdateItem setting every
 * attribute, no read) once, when the attempt ends; the record of an attempt that never ended is written only if none is there yet (a condition on the
 * key), so the one its run wrote is never replaced. DynamoDB's TTL deletes each once its `ttl` (epoch seconds) has
 * passed.
 *
 * Short attribute names keep an item inside one write unit (1 KB): the task, start and run are in the sort key;
 * `a` attempt, `e` end (epoch ms; the duration is end less start), `s` status, `er` error, `nr` set when its result
 * was not recorded, `lo` set when it never settled (a lost attempt), `v` version, `f` fingerprint, `i` inputs
 * (`f` the fields read, `u` each upstream task's run and version, space-separated), `iv` the invocation (`r` request
 * id, `g` log group, `s` log stream), `ar` artifact names.
 */
import { QueryCommand, type QueryCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RunInputs, UpstreamResult } from '../../domain/staleness';
import type { HistoryStore, Invocation, RunRecord, StoreMethod } from '../../engine/store';
import { type Table, type TableAccess, fromCursor, isConditionFailure, on, toCursor } from './access';
import { RUN_PREFIX, keys } from './encoding';

/** The attribute the table's TTL is set on (lib/constructs/task-table.ts). */
export const TTL_ATTRIBUTE = 'ttl';

export const historyAccess: Readonly<Record<StoreMethod<'history'>, readonly TableAccess[]>> = {
  // UpdateItem, not PutItem: the functions that record a lost attempt (the dead-letter handler, the web API's resets)
  // need no PutItem on a transient's partition, which would let them create transients.
  record: on('transient', 'UpdateItem'),
  list: on('transient', 'Query'),
};

const DEFAULT_PAGE = 100;

interface StoredInvocation {
  r?: string;
  g?: string;
  s?: string;
}

interface StoredRun {
  a: number;
  e?: number;
  s: string;
  er?: string;
  nr?: 1;
  lo?: 1;
  v: string;
  f: string;
  i: { f: Record<string, number | null>; u: Record<string, string> };
  iv?: StoredInvocation;
  ar?: string[];
}

/** Every attribute a stored run may have, besides its keys and `ttl`. */
const RUN_ATTRIBUTES = ['a', 'e', 's', 'er', 'nr', 'lo', 'v', 'f', 'i', 'iv', 'ar'] as const satisfies readonly (keyof StoredRun)[];

const encodeUpstream = (result: UpstreamResult) => (result.version === undefined ? result.run : `${result.run} ${result.version}`);
const decodeUpstream = (stored: string): UpstreamResult => {
  const [run = '', version] = stored.split(' ');
  return { run, ...(version === undefined ? {} : { version }) };
};

const encodeRun = (run: RunRecord): StoredRun => ({
  a: run.attempt,
  ...(run.endedAt === undefined ? {} : { e: run.endedAt }),
  s: run.status,
  ...(run.error === undefined ? {} : { er: run.error }),
  ...(run.recorded === false ? { nr: 1 as const } : {}),
  ...(run.lost ? { lo: 1 as const } : {}),
  v: run.version,
  f: run.fingerprint,
  i: { f: { ...run.inputs.fields }, u: Object.fromEntries(Object.entries(run.inputs.upstream).map(([task, result]) => [task, encodeUpstream(result)])) },
  ...(run.invocation
    ? {
        iv: {
          ...(run.invocation.requestId === undefined ? {} : { r: run.invocation.requestId }),
          ...(run.invocation.logGroup === undefined ? {} : { g: run.invocation.logGroup }),
          ...(run.invocation.logStream === undefined ? {} : { s: run.invocation.logStream }),
        },
      }
    : {}),
  ...(run.artifacts && run.artifacts.length > 0 ? { ar: [...run.artifacts] } : {}),
});

/** The task, start and run of a sort key `RUN#<task>#<start>#<run>` (a task name may hold `#`; the other two do not). */
const parseRunKey = (sk: string) => {
  const rest = sk.slice(RUN_PREFIX.length);
  const runAt = rest.lastIndexOf('#');
  const startAt = rest.lastIndexOf('#', runAt - 1);
  return { task: rest.slice(0, startAt), startedAt: Number(rest.slice(startAt + 1, runAt)), run: rest.slice(runAt + 1) };
};

const decodeRun = (name: string, item: Record<string, unknown>): RunRecord => {
  const stored = item as unknown as StoredRun;
  const { task, startedAt, run } = parseRunKey(item.sk as string);
  const invocation: Invocation | undefined = stored.iv && {
    ...(stored.iv.r === undefined ? {} : { requestId: stored.iv.r }),
    ...(stored.iv.g === undefined ? {} : { logGroup: stored.iv.g }),
    ...(stored.iv.s === undefined ? {} : { logStream: stored.iv.s }),
  };
  const inputs: RunInputs = {
    fields: stored.i.f,
    upstream: Object.fromEntries(Object.entries(stored.i.u).map(([upstream, result]) => [upstream, decodeUpstream(result)])),
  };
  return {
    name,
    task,
    run,
    attempt: stored.a,
    startedAt,
    ...(stored.e === undefined ? {} : { endedAt: stored.e, durationMs: stored.e - startedAt }),
    status: stored.s,
    ...(stored.er === undefined ? {} : { error: stored.er }),
    ...(stored.nr ? { recorded: false } : {}),
    ...(stored.lo ? { lost: true } : {}),
    version: stored.v,
    fingerprint: stored.f,
    inputs,
    ...(invocation ? { invocation } : {}),
    ...(stored.ar === undefined ? {} : { artifacts: stored.ar }),
    expiresAt: item[TTL_ATTRIBUTE] as number,
  };
};

export const dynamoHistory = (table: Table): HistoryStore => ({
  async record(run, options) {
    const key = keys.run(run.name, run.task, run.startedAt, run.run);
    // The whole item: every attribute set, and those the record has not removed (a run's own record replacing a lost one).
    const item: Record<string, unknown> = { ...encodeRun(run), [TTL_ATTRIBUTE]: run.expiresAt };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [index, attribute] of [...RUN_ATTRIBUTES, TTL_ATTRIBUTE].entries()) {
      names[`#a${index}`] = attribute;
      if (item[attribute] === undefined) removes.push(`#a${index}`);
      else {
        values[`:a${index}`] = item[attribute];
        sets.push(`#a${index} = :a${index}`);
      }
    }
    try {
      await table.send(
        'recordRun',
        new UpdateCommand({
          TableName: table.name,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ...(options?.ifAbsent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: table.ReturnConsumedCapacity,
        }),
      );
    } catch (error) {
      // Its run's own record is there already: it stays.
      if (!(options?.ifAbsent && isConditionFailure(error))) throw error;
      table.recordRefused('recordRun', undefined);
    }
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
    const items = (result.Items ?? []).map((item) => decodeRun(name, item));
    const next = toCursor(result.LastEvaluatedKey);
    return { items, ...(next ? { next } : {}) };
  },
});
