/**
 * The baseline a ready index replaces: Blast's way of finding work, a read of every task register. It scans
 * the whole table, keeps the transients whose registers meet the runner's prerequisites, and sends them,
 * oldest public timestamp first. (Blast sent one per tick, reading the table once per transient sent.)
 */
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isReady } from '../lib/domain/workflow';
import type { Engine } from '../lib/engine/engine';
import { decodeTransient, keys } from '../lib/store/dynamodb';

export interface NaiveDispatchResult {
  readonly dispatched: number;
  /** Items the scans examined (and DynamoDB billed). */
  readonly itemsRead: number;
}

export const naiveDispatch = async (engine: Engine, doc: DynamoDBDocumentClient, tableName: string, task: string): Promise<NaiveDispatchResult> => {
  const spec = engine.workflow.specs.get(task);
  if (!spec) throw new Error(`no transient runner for "${task}"`);
  const ready: { name: string; priority: string }[] = [];
  let itemsRead = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey, ReturnConsumedCapacity: 'TOTAL' }),
    );
    itemsRead += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      if (item.sk !== keys.transient('').sk || typeof item.pk !== 'string' || !item.pk.startsWith('T#')) continue;
      const record = decodeTransient(item);
      if (isReady(spec, record.registers)) ready.push({ name: record.transient.name, priority: String(item.pts) });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  ready.sort((a, b) => a.priority.localeCompare(b.priority));
  const readyAt = engine.clock();
  const failed = await engine.queues.send(
    task,
    ready.map(({ name }) => ({ transient: name, task, readyAt })),
  );
  return { dispatched: ready.length - failed.length, itemsRead };
};
