/**
 * Meters on the wire. A recording proxy on loopback sits in front of DynamoDB Local or the SQS emulator,
 * forwards every request unchanged and hands each exchange to a meter, which tallies what AWS would bill:
 * the ConsumedCapacity DynamoDB returns (every call of the store asks for it), SQS requests in 64 KB
 * chunks. The handlers under test are the real ones, configured only through their endpoint variables.
 */
import { Agent, type IncomingHttpHeaders, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { billedSqsRequests } from './cost';
import { type WireItem, itemSize, wireItemSchema, writeUnitsFor } from './item-size';
import { queueNameOf } from '../lib/queue/task-queues';

export interface Exchange {
  /** The X-Amz-Target header: `DynamoDB_20120810.UpdateItem`, `AmazonSQS.SendMessageBatch`. */
  readonly target: string;
  readonly status: number;
  readonly requestBody: Buffer;
  readonly responseBody: Buffer;
  /** From forwarding the request to the end of the response. */
  readonly ms: number;
}

export interface Meter {
  record(exchange: Exchange): void;
}

export interface RecordingProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : (value ?? ''));
const decoded = (headers: IncomingHttpHeaders, body: Buffer) => (headerText(headers['content-encoding']) === 'gzip' ? gunzipSync(body) : body);

/**
 * Starts a proxy on a free loopback port that forwards to `targetEndpoint` and records every exchange.
 * Responses naming the target's origin (the emulator's queue URLs) are rewritten to name the proxy's: the SQS
 * client sends each call to the host of its QueueUrl, so the URLs the handlers hold must lead back here.
 */
export const startRecordingProxy = (targetEndpoint: string, meter: Meter): Promise<RecordingProxy> => {
  const target = new URL(targetEndpoint);
  let ownOrigin = '';
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const requestBody = Buffer.concat(chunks);
      const sent = performance.now();
      const upstream = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
        (response) => {
          const body: Buffer[] = [];
          response.on('data', (chunk: Buffer) => body.push(chunk));
          response.on('end', () => {
            const received = Buffer.concat(body);
            const responseBody = received.includes(target.origin) ? Buffer.from(received.toString('utf8').replaceAll(target.origin, ownOrigin)) : received;
            const headers = { ...response.headers };
            delete headers['content-length'];
            delete headers['transfer-encoding'];
            outgoing.writeHead(response.statusCode ?? 502, { ...headers, 'content-length': responseBody.length });
            outgoing.end(responseBody);
            meter.record({
              target: headerText(incoming.headers['x-amz-target']),
              status: response.statusCode ?? 0,
              requestBody,
              responseBody: decoded(response.headers, responseBody),
              ms: performance.now() - sent,
            });
          });
        },
      );
      upstream.on('error', (error) => {
        outgoing.writeHead(502);
        outgoing.end(error.message);
      });
      upstream.end(requestBody);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      ownOrigin = `http://127.0.0.1:${port}`;
      resolve({
        endpoint: ownOrigin,
        close: () =>
          new Promise<void>((done) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
};

const parseJson = (body: Buffer): unknown => (body.length === 0 ? {} : JSON.parse(body.toString('utf8')));

export interface Tally {
  requests: number;
  /** Billed units: DynamoDB capacity units, or SQS requests counted in 64 KB chunks. */
  units: number;
  /** Items read (DynamoDB reads), items written (writes), or messages (SQS). */
  items: number;
  /** Calls refused: conditional checks that failed, and errors. */
  failed: number;
  /** SQS receives that returned nothing. */
  empty: number;
  /** Time the service took to answer, summed. */
  ms: number;
}

export interface UsageLine extends Tally {
  readonly operation: string;
  /** What the call touched: the item kind for DynamoDB (`transient`, `output`, `ready`...), the queue for SQS. */
  readonly kind: string;
}

/** Counts per (operation, kind); `reset` starts a new phase, `lines` reads the current one. */
class Tallies {
  private readonly byKey = new Map<string, UsageLine>();
  /** Exchanges a meter could not read: the benchmark fails rather than under-count. */
  readonly problems: string[] = [];

  add(operation: string, kind: string, add: Partial<Tally>): void {
    const key = `${operation}\u0000${kind}`;
    const line = this.byKey.get(key) ?? { operation, kind, requests: 0, units: 0, items: 0, failed: 0, empty: 0, ms: 0 };
    line.requests += add.requests ?? 0;
    line.units += add.units ?? 0;
    line.items += add.items ?? 0;
    line.failed += add.failed ?? 0;
    line.empty += add.empty ?? 0;
    line.ms += add.ms ?? 0;
    this.byKey.set(key, line);
  }

  lines(): UsageLine[] {
    return [...this.byKey.values()].map((line) => ({ ...line }));
  }

  reset(): void {
    this.byKey.clear();
  }
}

export const sumLines = (lines: readonly UsageLine[], field: keyof Tally, where: (line: UsageLine) => boolean = () => true): number =>
  lines.filter(where).reduce((total, line) => total + line[field], 0);

// ---- DynamoDB ----

export const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
export const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** Marks the kind of a query that returned nothing. */
export const EMPTY = '(empty)';

const keyValue = z.looseObject({ S: z.string().optional() });
const keyed = z.looseObject({ pk: keyValue.optional(), sk: keyValue.optional() });
const capacity = z.looseObject({ CapacityUnits: z.number().optional() });
const dynamoRequest = z.looseObject({
  Key: keyed.optional(),
  Item: keyed.optional(),
  IndexName: z.string().optional(),
  KeyConditionExpression: z.string().optional(),
  ExpressionAttributeValues: z.record(z.string(), keyValue).optional(),
  RequestItems: z
    .record(
      z.string(),
      z.union([
        z.array(z.looseObject({ PutRequest: z.looseObject({ Item: keyed }).optional(), DeleteRequest: z.looseObject({ Key: keyed }).optional() })),
        z.looseObject({ Keys: z.array(keyed) }),
      ]),
    )
    .optional(),
  TransactItems: z.array(z.unknown()).optional(),
});
const dynamoResponse = z.looseObject({
  ConsumedCapacity: z.union([capacity, z.array(capacity)]).optional(),
  ScannedCount: z.number().optional(),
  Item: z.unknown().optional(),
  Responses: z.union([z.record(z.string(), z.array(z.unknown())), z.array(z.unknown())]).optional(),
  __type: z.string().optional(),
});

/** Kind of a system runner's own items (its lock, its checkpoint). */
export const SYSTEM = 'system';
/** Key prefixes of items that belong to one task: its lock and its checkpoint (`LOCK#<task>`, `SYS#<task>`). */
const TASK_ITEMS = new Set(['LOCK', 'SYS']);

/**
 * The kind of item a key names: `transient`, `output` (a runner's saved results), `system` (the lock or the
 * checkpoint of one of `systemTasks`), or its key prefix.
 */
export const itemKind = (pk: string | undefined, sk: string | undefined, systemTasks: ReadonlySet<string> = new Set()): string => {
  if (pk === undefined) return 'unknown';
  const prefix = pk.split('#')[0] ?? pk;
  if (prefix === 'T') return sk?.startsWith('OUT#') ? 'output' : sk?.startsWith('RUN#') ? 'history' : 'transient';
  if (TASK_ITEMS.has(prefix) && systemTasks.has(pk.slice(prefix.length + 1))) return SYSTEM;
  return prefix.toLowerCase();
};

const kindOfRequest = (operation: string, body: z.infer<typeof dynamoRequest>, systemTasks: ReadonlySet<string>): string => {
  const itemKindOf = (pk: string | undefined, sk: string | undefined) => itemKind(pk, sk, systemTasks);
  const key = body.Key ?? body.Item;
  if (key) return itemKindOf(key.pk?.S, key.sk?.S);
  if (operation === 'Scan') return 'table scan';
  if (operation === 'TransactWriteItems') return 'transaction';
  if (operation === 'Query') {
    if (body.IndexName) return `index ${body.IndexName}`;
    const placeholder = /=\s*(:[A-Za-z0-9_]+)/.exec(body.KeyConditionExpression ?? '')?.[1];
    return itemKindOf(placeholder ? body.ExpressionAttributeValues?.[placeholder]?.S : undefined, undefined);
  }
  const batch = Object.values(body.RequestItems ?? {})[0];
  if (Array.isArray(batch)) {
    const first = batch[0];
    const item = first?.PutRequest?.Item ?? first?.DeleteRequest?.Key;
    return itemKindOf(item?.pk?.S, item?.sk?.S);
  }
  const firstKey = batch?.Keys[0];
  return itemKindOf(firstKey?.pk?.S, firstKey?.sk?.S);
};

const itemsTouched = (operation: string, request: z.infer<typeof dynamoRequest>, response: z.infer<typeof dynamoResponse>): number => {
  switch (operation) {
    case 'Query':
    case 'Scan':
      return response.ScannedCount ?? 0;
    case 'GetItem':
      return response.Item ? 1 : 0;
    case 'BatchGetItem':
      return Object.values(response.Responses ?? {}).reduce((total: number, items) => total + (Array.isArray(items) ? items.length : 0), 0);
    case 'BatchWriteItem':
      return Object.values(request.RequestItems ?? {}).reduce((total: number, items) => total + (Array.isArray(items) ? items.length : 0), 0);
    case 'TransactWriteItems':
      return request.TransactItems?.length ?? 0;
    default:
      return 1;
  }
};

/** Units a refused conditional write is billed for: the item it was checked against, at least one. */
const refusedWriteUnits = (item: unknown): number => {
  const parsed = wireItemSchema.safeParse(item);
  return parsed.success ? writeUnitsFor(itemSize(parsed.data as WireItem)) : 1;
};

export class DynamoDbMeter implements Meter {
  private readonly tallies = new Tallies();
  readonly problems = this.tallies.problems;

  /** `systemTasks`: the system runners, whose locks and checkpoints are filed as `system`. */
  constructor(private readonly systemTasks: ReadonlySet<string> = new Set()) {}

  record({ target, status, requestBody, responseBody, ms }: Exchange): void {
    const operation = target.split('.')[1] ?? target;
    if (!DYNAMODB_READS.has(operation) && !DYNAMODB_WRITES.has(operation)) return;
    try {
      const body = dynamoRequest.parse(parseJson(requestBody));
      const response = dynamoResponse.parse(parseJson(responseBody));
      const kind = kindOfRequest(operation, body, this.systemTasks);
      if (status >= 400) {
        const refused = response.__type?.endsWith('ConditionalCheckFailedException') ?? false;
        this.tallies.add(operation, kind, { requests: 1, failed: 1, units: refused ? refusedWriteUnits(response.Item) : 0, ms });
        return;
      }
      const consumed = response.ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((total, entry) => total + (entry.CapacityUnits ?? 0), 0);
      if (consumed === undefined) this.problems.push(`${operation} on ${kind} returned no ConsumedCapacity: every call must ask for it`);
      const items = itemsTouched(operation, body, response);
      // A query that finds nothing is a schedule's idle probe: a cost per tick, not per execution.
      const idle = operation === 'Query' && items === 0 ? ` ${EMPTY}` : '';
      this.tallies.add(operation, `${kind}${idle}`, { requests: 1, units, items, ms });
    } catch (error) {
      this.problems.push(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  lines(): UsageLine[] {
    return this.tallies.lines();
  }

  reset(): void {
    this.tallies.reset();
  }
}

// ---- SQS ----

/** Queue administration, done once at deployment or by the benchmark itself: not part of the work measured. */
const SQS_CONTROL = new Set(['CreateQueue', 'DeleteQueue', 'GetQueueAttributes', 'GetQueueUrl', 'ListQueues', 'PurgeQueue', 'SetQueueAttributes']);
const sqsRequest = z.looseObject({ QueueUrl: z.string().optional(), Entries: z.array(z.unknown()).optional() });
const sqsResponse = z.looseObject({ Messages: z.array(z.unknown()).optional() });

export class SqsMeter implements Meter {
  private readonly tallies = new Tallies();
  readonly problems = this.tallies.problems;

  record({ target, status, requestBody, responseBody, ms }: Exchange): void {
    const action = target.split('.')[1] ?? target;
    if (SQS_CONTROL.has(action)) return;
    try {
      const body = sqsRequest.parse(parseJson(requestBody));
      const queue = queueNameOf(body.QueueUrl ?? '');
      if (status >= 400) {
        this.tallies.add(action, queue, { requests: 1, units: 1, failed: 1, ms });
        return;
      }
      const receive = action === 'ReceiveMessage';
      const messages = receive ? (sqsResponse.parse(parseJson(responseBody)).Messages?.length ?? 0) : (body.Entries?.length ?? 1);
      const payload = receive ? responseBody.length : requestBody.length;
      this.tallies.add(action, queue, { requests: 1, units: billedSqsRequests(payload), items: messages, empty: receive && messages === 0 ? 1 : 0, ms });
    } catch (error) {
      this.problems.push(`${action}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  lines(): UsageLine[] {
    return this.tallies.lines();
  }

  reset(): void {
    this.tallies.reset();
  }
}
