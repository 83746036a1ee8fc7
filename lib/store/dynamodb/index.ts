/**
 * The storage port on one DynamoDB table: one adapter file per item kind, each declaring the DynamoDB actions its
 * methods call and on which items, from which the stack derives each function's grants, down to the items'
 * keys (HandlerFunction.grantStore, from the methods lib/engine/store-use.ts says each function calls).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoreConcern, StoreMethod, TaskStore } from '../../engine/store';
import type { StoreUse } from '../../engine/store-use';
import { type CapacityMeter, Table, type TableAccess } from './access';
import { backfillAccess, dynamoBackfills } from './backfills';
import { counterAccess, dynamoCounters } from './counters';
import { deadLetterAccess, dynamoDeadLetters } from './dead-letters';
import { dynamoHistory, historyAccess } from './history';
import { dynamoLocks, lockAccess } from './locks';
import { dynamoOutputs, outputAccess } from './outputs';
import { dynamoReadiness, readinessAccess } from './readiness';
import { dynamoSystemState, systemStateAccess } from './system-state';
import { dynamoTransients, transientAccess } from './transients';

export type { CapacityMeter, TableAccess } from './access';
export { isCounterWrite } from './counters';
export { TTL_ATTRIBUTE } from './history';
export { type ItemKind, type ItemScope, type TaskItemKind, decodeTransient, keys, leadingKeys } from './encoding';

/** What each method of the port calls on the table, by concern. */
export const storeAccess: { readonly [C in StoreConcern]: Readonly<Record<StoreMethod<C>, readonly TableAccess[]>> } = {
  transients: transientAccess,
  readiness: readinessAccess,
  locks: lockAccess,
  outputs: outputAccess,
  history: historyAccess,
  deadLetters: deadLetterAccess,
  counters: counterAccess,
  systemState: systemStateAccess,
  backfills: backfillAccess,
};

/** The table actions a function calling these methods of the port needs, and on which items: each once, in a stable order. */
export const tableAccessOf = (use: StoreUse): TableAccess[] => {
  const declared = storeAccess as Readonly<Record<string, Readonly<Record<string, readonly TableAccess[]>>>>;
  const found = Object.entries(use).flatMap(([concern, methods]) => (methods ?? []).flatMap((method: string) => declared[concern]?.[method] ?? []));
  const unique = new Map(found.map((access) => [`${access.item} ${access.action}`, access]));
  return [...unique.keys()].sort().map((key) => unique.get(key) as TableAccess);
};

export const dynamoTaskStore = (doc: DynamoDBDocumentClient, tableName: string, meter?: CapacityMeter): TaskStore => {
  const table = new Table(doc, tableName, meter);
  return {
    transients: dynamoTransients(table),
    readiness: dynamoReadiness(table),
    locks: dynamoLocks(table),
    outputs: dynamoOutputs(table),
    history: dynamoHistory(table),
    deadLetters: dynamoDeadLetters(table),
    counters: dynamoCounters(table),
    systemState: dynamoSystemState(table),
    backfills: dynamoBackfills(table),
  };
};
