/**
 * How every adapter file reaches the table: one place that sends a command and hands its consumed capacity to
 * the meter, one retry of the items a batch call left unprocessed (with backoff, as AWS advises), and one
 * conditional update of a transient that returns the image that refused it. The SDK's own retries (throttling,
 * timeouts) happen inside the client (lib/bootstrap/aws-clients.ts).
 */
import { type ConsumedCapacity, ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { chunk, forEachLimited } from '../../engine/concurrency';
import { coerceError, errorName } from '../../domain/errors';
import { type PageCursor, StoreRefusedError, type WriteResult } from '../../engine/store';
import { type ItemKind, decodeTransient, keys } from './encoding';
import { ExpressionBuilder } from './expressions';

/** Receives the consumed capacity of every call (the benchmark's meter). */
export interface CapacityMeter {
  record(operation: string, capacity: ConsumedCapacity | ConsumedCapacity[] | undefined, itemsRead?: number): void;
}

/** A DynamoDB action an adapter method calls, on which kind of item (lib/store/dynamodb/encoding.ts leadingKeys). */
export interface TableAccess {
  readonly action: 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'BatchWriteItem';
  /** The items it reaches, by their partition key; `status` is the processing-status index's. */
  readonly item: ItemKind;
}
/** Shorthand for the declarations of the adapter files. */
export const on = (item: ItemKind, ...actions: TableAccess['action'][]): TableAccess[] => actions.map((action) => ({ action, item }));

type Item = Record<string, unknown>;
type BatchWriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];
/** A command of the document client (the SDK types each command's output; `send` takes it as T). */
type Sendable = object;

/** BatchWriteItem calls of one write sent side by side. */
const BATCH_WRITES_IN_PARALLEL = 4;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException => error instanceof ConditionalCheckFailedException;

/** DynamoDB refuses the request for what it is (an item or key over its limits), alone or in a transaction. */
export const isRefusedAsItIs = (error: unknown): boolean =>
  errorName(error) === 'ValidationException' ||
  (error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ValidationError'));

/** A cursor for the engine from DynamoDB's LastEvaluatedKey, and back. */
export const toCursor = (key: Record<string, unknown> | undefined): PageCursor | undefined => (key ? JSON.stringify(key) : undefined);
export const fromCursor = (cursor: PageCursor | undefined): Record<string, unknown> | undefined =>
  cursor === undefined ? undefined : (JSON.parse(cursor) as Record<string, unknown>);

export class Table {
  readonly ReturnConsumedCapacity = 'TOTAL' as const;

  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly name: string,
    private readonly meter?: CapacityMeter,
  ) {}

  /** Sends a command and records its consumed capacity under `operation`. */
  async send<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(operation: string, command: Sendable, itemsRead?: number | ((output: T) => number)): Promise<T> {
    const output = (await this.doc.send(command as never)) as unknown as T;
    this.meter?.record(operation, output.ConsumedCapacity, typeof itemsRead === 'function' ? itemsRead(output) : itemsRead);
    return output;
  }

  /** A refused write still costs one unit per KB of the item it was checked against, which the meter estimates. */
  recordRefused(operation: string, item: Item | undefined): void {
    const units = Math.max(1, Math.ceil(JSON.stringify(item ?? {}).length / 1024));
    this.meter?.record(`${operation}:refused`, { TableName: this.name, CapacityUnits: units, WriteCapacityUnits: units });
  }

  /**
   * A conditional UpdateItem on a transient returning the new image (or the old one, with `ALL_OLD`), or the
   * current one when refused.
   */
  async conditionalUpdate(
    name: string,
    operation: string,
    build: (x: ExpressionBuilder) => { update: string; condition: string },
    returnValues: 'ALL_NEW' | 'ALL_OLD' = 'ALL_NEW',
  ): Promise<WriteResult> {
    const x = new ExpressionBuilder();
    const { update, condition } = build(x);
    try {
      const result = await this.send<{ Attributes?: Item; ConsumedCapacity?: ConsumedCapacity }>(
        operation,
        new UpdateCommand({
          TableName: this.name,
          Key: keys.transient(name),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: x.attributeNames,
          ExpressionAttributeValues: x.attributeValues,
          ReturnValues: returnValues,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: this.ReturnConsumedCapacity,
        }),
      );
      return { ok: true, record: decodeTransient(result.Attributes ?? {}) };
    } catch (error) {
      if (isRefusedAsItIs(error)) throw new StoreRefusedError(coerceError(error).message, { cause: error });
      if (!isConditionFailure(error)) throw error;
      // The SDK returns the refusing item in wire format and no consumed capacity.
      const item = error.Item ? unmarshall(error.Item) : undefined;
      this.recordRefused(operation, item);
      return { ok: false, current: item ? decodeTransient(item) : undefined };
    }
  }

  /** Items by key, 100 per request, retrying the keys left unprocessed; missing ones are left out. */
  async batchGet(operation: string, allKeys: readonly Record<string, unknown>[]): Promise<Item[]> {
    const items: Item[] = [];
    for (const group of chunk(allKeys, 100)) {
      let pending: Record<string, unknown>[] | undefined = [...group];
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        const result: BatchGetCommandOutput = await this.send(
          operation,
          new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true } }, ReturnConsumedCapacity: this.ReturnConsumedCapacity }),
          (output: BatchGetCommandOutput) => output.Responses?.[this.name]?.length ?? 0,
        );
        items.push(...(result.Responses?.[this.name] ?? []));
        pending = result.UnprocessedKeys?.[this.name]?.Keys;
        if (pending?.length) await pause(Math.min(1000, 25 * 2 ** attempt));
      }
    }
    return items;
  }

  /**
   * BatchWriteItem in groups of 25, a few groups at a time (the dispatcher deletes a round of sent markers at
   * once), retrying unprocessed items with backoff.
   */
  async batchWrite(operation: string, requests: BatchWriteRequests): Promise<void> {
    const writeGroup = async (group: BatchWriteRequests) => {
      let pending: BatchWriteRequests | undefined = group;
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        const result: BatchWriteCommandOutput = await this.send(
          operation,
          new BatchWriteCommand({ RequestItems: { [this.name]: pending }, ReturnConsumedCapacity: this.ReturnConsumedCapacity }),
        );
        pending = result.UnprocessedItems?.[this.name];
        if (pending?.length) await pause(Math.min(1000, 25 * 2 ** attempt));
      }
    };
    await forEachLimited(chunk(requests, 25), BATCH_WRITES_IN_PARALLEL, writeGroup);
  }
}

