/**
 * Least privilege down to the item: every DynamoDB grant of the synthesized template is confined by a condition
 * on the partition keys a request names, and the test's policy checker (the one the IAM contract test of
 * test/infra/bundled-workflow.test.ts runs over every real call) refuses calls that reach past a function's own
 * items, written as the SDK sends them.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { SystemTaskName } from '../../runners/system-tasks';
import { keys } from '../../lib/store/dynamodb';
import { tableSchema } from '../../lib/store/dynamodb/table';
import { isTransientRunner } from '../../lib/runner';
import { readyTasks } from '../../lib/domain/workflow';
import { fieldsUsedByTask, tasksReadyAfterRevision } from '../../lib/domain/revision';
import { type RecordedCall } from '../helpers/aws-call-recorder';
import { LEADING_KEYS, allows, grantsOf, requiredPermissions } from '../helpers/iam';
import { arnOf, logicalId, synthStack } from '../helpers/stack';
import { resourcesOfType } from '../helpers/template';

const { stack, json } = synthStack(registry);
const TABLE = 'Tasks';
const tableArn = arnOf(stack.table.table);
const arns = { tableArn: () => tableArn, queueArn: (url: string) => url, secretArn: (id: string) => id };

/** A DynamoDB call as the SDK's JSON protocol sends it (attribute values in wire format). */
const call = (operation: string, body: Record<string, unknown>): RecordedCall => ({
  service: 'dynamodb',
  accessKeyId: 'test',
  operation,
  body,
  method: 'POST',
  path: '/',
});
const wire = (value: Record<string, unknown>) => marshall(value, { removeUndefinedValues: true });
const calls = {
  put: (item: Record<string, unknown>) => call('PutItem', { TableName: TABLE, Item: wire(item) }),
  update: (key: Record<string, unknown>) =>
    call('UpdateItem', { TableName: TABLE, Key: wire(key), UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: wire({ ':a': 1 }) }),
  delete: (key: Record<string, unknown>) => call('DeleteItem', { TableName: TABLE, Key: wire(key) }),
  putMarkers: (...items: Record<string, unknown>[]) =>
    call('BatchWriteItem', { RequestItems: { [TABLE]: items.map((item) => ({ PutRequest: { Item: wire(item) } })) } }),
  queryMarkers: (pk: string) =>
    call('Query', { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: wire({ ':pk': pk }), Limit: 10 }),
  transact: (...items: Record<string, unknown>[]) =>
    call('TransactWriteItems', { TransactItems: items.map((item) => ({ Put: { TableName: TABLE, Item: wire(item) } })) }),
};
const marker = (task: string) => ({ ...keys.marker(task, 0, '2010-01-01#2010H', 'id'), n: '2010H' });

/** Whether the function's policy in the template allows every permission the call needs. */
const allowed = (functionId: string, recorded: RecordedCall): boolean => {
  const grants = grantsOf(json, functionId);
  return requiredPermissions(recorded, arns).every((need) => allows(grants, need.action, need.resource, need.context));
};

const workerOf = (task: string) => {
  const built = stack.transientRunners.find((candidate) => candidate.taskName === task);
  if (!built) throw new Error(`no runner "${task}"`);
  return logicalId(built.worker.function);
};
const systemRunnerOf = (task: string) => {
  const built = stack.systemRunners.find((candidate) => candidate.taskName === task);
  if (!built) throw new Error(`no system runner "${task}"`);
  return logicalId(built.handler.function);
};
const dispatcher = logicalId(stack.dispatcher.handler.function);

// A runner with a dependent, and a task that is neither it nor one of its dependents.
const transientTasks = registry.filter(isTransientRunner).map((runner) => runner.taskName);
const [worker, dependent, unrelated] = ((): [string, string, string] => {
  for (const task of transientTasks) {
    const dependents = stack.workflow.dependents.get(task) ?? [];
    const other = transientTasks.find((candidate) => candidate !== task && !dependents.includes(candidate));
    if (dependents[0] && other) return [task, dependents[0], other];
  }
  throw new Error('no runner with both a dependent and an unrelated task');
})();
const systemTasks = registry.filter((runner) => !isTransientRunner(runner)).map((runner) => runner.taskName);

describe('Item-level grants', () => {
  it('confine every DynamoDB grant of every function to items by their partition keys', () => {
    const functions = resourcesOfType(json, 'AWS::Lambda::Function').map(([id]) => id);
    const tableGrants = functions.flatMap((id) => grantsOf(json, id)).filter((grant) => grant.action.startsWith('dynamodb:'));
    expect(tableGrants.length).toBeGreaterThan(0);
    for (const grant of tableGrants) {
      const leading = grant.conditions.filter((condition) => condition.key === LEADING_KEYS);
      expect(leading, `${grant.action} ${grant.resource}`).toEqual([expect.objectContaining({ operator: 'ForAllValues:StringLike' })]);
      expect(leading[0]?.values.length).toBeGreaterThan(0);
      // Each pattern names a kind of item by its prefix: none is a bare wildcard.
      for (const pattern of leading[0]?.values ?? []) expect(pattern).toMatch(/^[^*]+/);
    }
  });

  it(`let a worker write transients and the ready markers of its own task and its dependents (${worker} → ${dependent})`, () => {
    const fn = workerOf(worker);
    expect(allowed(fn, calls.update(keys.transient('2010H')))).toBe(true);
    expect(allowed(fn, calls.put({ ...keys.output('2010H', worker, 'token'), data: {} }))).toBe(true);
    expect(allowed(fn, calls.putMarkers(marker(dependent), marker(worker)))).toBe(true);
  });

  it(`refuse a worker that writes another runner's ready markers (${worker} → ${unrelated}), alone or in a batch with its own`, () => {
    const fn = workerOf(worker);
    expect(allowed(fn, calls.putMarkers(marker(unrelated)))).toBe(false);
    expect(allowed(fn, calls.putMarkers(marker(dependent), marker(unrelated)))).toBe(false);
  });

  it('refuse a worker that takes or drops a lock, writes a dead letter or a system runner\'s checkpoint, or reads the counters in bulk', () => {
    const fn = workerOf(worker);
    // PutItem and UpdateItem are granted to the worker, on other items: the key condition is what refuses these.
    expect(allowed(fn, calls.put({ ...keys.lock(worker), owner: 'me', until: 0 }))).toBe(false);
    for (const task of systemTasks) expect(allowed(fn, calls.put({ ...keys.lock(task), owner: 'me', until: 0 }))).toBe(false);
    expect(allowed(fn, calls.delete(keys.lock(worker)))).toBe(false);
    expect(allowed(fn, calls.put({ ...keys.deadLetter(worker, '2010H'), reason: 'x' }))).toBe(false);
    expect(allowed(fn, calls.update(keys.systemState(SystemTaskName.IngestMissedTnsTransients)))).toBe(false);
    expect(allowed(fn, calls.put({ ...keys.systemState(SystemTaskName.IngestMissedTnsTransients), state: {} }))).toBe(false);
  });

  it('let the dispatcher reach only the ready markers and dispatch locks of the runners it dispatches', () => {
    expect(allowed(dispatcher, calls.queryMarkers(keys.marker(worker, 0, '', '').pk))).toBe(true);
    expect(allowed(dispatcher, calls.put({ ...keys.lock(worker), owner: 'me', until: 0 }))).toBe(true);
    for (const task of systemTasks) expect(allowed(dispatcher, calls.put({ ...keys.lock(task), owner: 'me', until: 0 }))).toBe(false);
    expect(allowed(dispatcher, calls.put({ ...keys.transient('2010H') }))).toBe(false);
    expect(allowed(dispatcher, calls.update(keys.counters(0)))).toBe(false);
  });

  it.each(systemTasks.map((task) => [task] as const))('let the system runner "%s" take its own lock and no other', (task) => {
    const fn = systemRunnerOf(task);
    expect(allowed(fn, calls.put({ ...keys.lock(task), owner: 'me', until: 0 }))).toBe(true);
    for (const other of [...systemTasks.filter((candidate) => candidate !== task), ...transientTasks]) {
      expect(allowed(fn, calls.put({ ...keys.lock(other), owner: 'me', until: 0 })), other).toBe(false);
    }
    for (const other of systemTasks.filter((candidate) => candidate !== task)) {
      expect(allowed(fn, calls.put({ ...keys.systemState(other), state: {} })), other).toBe(false);
    }
  });

  it('judge a transaction item by item: an ingest that also writes a marker it may not is refused', () => {
    const fn = systemRunnerOf(SystemTaskName.TnsDataIngestion);
    // What an ingest or a revision can make ready; any other task's marker is out of its reach.
    const reachable = new Set([...readyTasks(stack.workflow, {}), ...tasksReadyAfterRevision(stack.workflow, fieldsUsedByTask(registry))]);
    const [first] = readyTasks(stack.workflow, {});
    const beyond = transientTasks.find((task) => !reachable.has(task));
    if (!first || !beyond) throw new Error('the workflow has no first task, or none beyond an ingest');
    const created = { ...keys.transient('2026abc'), [tableSchema.statusIndex.partitionKey]: 'processing#1' };
    expect(allowed(fn, calls.transact(created, marker(first)))).toBe(true);
    expect(allowed(fn, calls.transact(created, marker(beyond)))).toBe(false);
  });
});
