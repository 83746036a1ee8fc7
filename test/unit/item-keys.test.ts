/**
 * The IAM patterns of each kind of item (lib/store/dynamodb/encoding.ts leadingKeys) against the keys the
 * adapter writes: each pattern matches its own items' partition keys and no other task's or kind's.
 */
import { describe, expect, it } from 'vitest';
import { processingStatuses } from '../../lib/domain/workflow';
import { type ItemKind, type ItemScope, keys, leadingKeys } from '../../lib/store/dynamodb';
import { statusIndexKey } from '../../lib/store/dynamodb/encoding';
import { LEADING_KEYS, allows } from '../helpers/iam';

/** Whether the patterns of `kind` for `scope` admit every one of `partitionKeys`, as IAM's ForAllValues:StringLike does. */
const admits = (kind: ItemKind, scope: ItemScope, ...partitionKeys: string[]) =>
  allows([{ action: 'a', resource: 'r', conditions: [{ operator: 'ForAllValues:StringLike', key: LEADING_KEYS, values: leadingKeys(kind, scope) }] }], 'a', 'r', {
    [LEADING_KEYS]: partitionKeys,
  });

// Two tasks, one a prefix of the other: a pattern for one must not reach the other's items.
const HOST = 'Host';
const HOST_MATCH = 'Host match';
const everyKind = (task: string) => [
  keys.transient('2010H').pk,
  keys.marker(task, 3, 'p', 'id').pk,
  keys.lock(task).pk,
  keys.deadLetter(task, '2010H').pk,
  keys.counters(2).pk,
  keys.systemState(task).pk,
];

describe('Function: leadingKeys', () => {
  it('admits every transient and its outputs, and every counters shard, whatever the scope', () => {
    expect(admits('transient', {}, keys.transient('2010H').pk, keys.output('2023ixf', HOST, 'token').pk)).toBe(true);
    expect(admits('counters', {}, keys.counters(0).pk, keys.counters(15).pk)).toBe(true);
    expect(admits('transient', {}, keys.lock(HOST).pk)).toBe(false);
    expect(admits('counters', {}, keys.transient('COUNTS#1').pk)).toBe(false);
  });

  it('admits the ready markers of the scope\'s tasks on every shard, and not those of a task whose name extends one', () => {
    expect(admits('ready', { ready: [HOST] }, keys.marker(HOST, 0, 'p', 'a').pk, keys.marker(HOST, 99, 'p', 'b').pk)).toBe(true);
    expect(admits('ready', { ready: [HOST] }, keys.marker(HOST_MATCH, 0, 'p', 'a').pk)).toBe(false);
    expect(admits('ready', { ready: [HOST_MATCH] }, keys.marker(HOST, 0, 'p', 'a').pk)).toBe(false);
    expect(admits('ready', {}, keys.marker(HOST, 0, 'p', 'a').pk)).toBe(false);
  });

  it.each([
    ['lock', (task: string) => keys.lock(task).pk],
    ['deadLetter', (task: string) => keys.deadLetter(task, '2010H').pk],
    ['systemState', (task: string) => keys.systemState(task).pk],
  ] as const)('admits the %s item of the scope\'s tasks only', (kind, keyOf) => {
    expect(admits(kind, { [kind]: [HOST] }, keyOf(HOST))).toBe(true);
    expect(admits(kind, { [kind]: [HOST] }, keyOf(HOST_MATCH))).toBe(false);
    expect(admits(kind, { [kind]: [HOST_MATCH] }, keyOf(HOST))).toBe(false);
  });

  it('admits the status index keys of every processing status', () => {
    expect(admits('status', {}, ...processingStatuses.map((status) => statusIndexKey(status, '2010H')))).toBe(true);
    expect(admits('status', {}, keys.transient('2010H').pk)).toBe(false);
  });

  it('admits, for each kind, none of the other kinds\' keys', () => {
    const scope: ItemScope = { ready: [HOST], lock: [HOST], deadLetter: [HOST], systemState: [HOST] };
    const kinds: ItemKind[] = ['transient', 'ready', 'lock', 'deadLetter', 'counters', 'systemState'];
    kinds.forEach((kind, index) => {
      const own = everyKind(HOST)[index] ?? '';
      expect(admits(kind, scope, own), kind).toBe(true);
      for (const other of everyKind(HOST).filter((key) => key !== own)) expect(admits(kind, scope, other), `${kind} ${other}`).toBe(false);
    });
  });
});
