/**
 * A recording proxy on loopback in front of a local AWS service (DynamoDB Local, the SQS emulator, the S3
 * emulator, the Secrets Manager stand-in, a deployment's Lambda Invoke endpoint). Every request is forwarded
 * unchanged but for its Host header; on the way it records who made it (the access key id of the SigV4
 * credential scope, one per function), the operation (X-Amz-Target for the JSON protocols, the method and path
 * for the REST ones: S3, Lambda) and the body,
 * so a test can tell which function made which AWS call on which resource. A fault hook can answer a call
 * with an error instead of forwarding it.
 */
import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import { keepIdleConnections } from '../../lib/local/idle-connections';

export type RecordedService = 'dynamodb' | 'sqs' | 's3' | 'secretsmanager' | 'lambda' | 'ecs';

export interface RecordedCall {
  readonly service: RecordedService;
  readonly accessKeyId: string;
  /** The operation, e.g. `UpdateItem`, `SendMessageBatch`; for a REST call (S3), `METHOD path`. */
  readonly operation: string;
  /** The parsed JSON body of a JSON-protocol call; empty for a REST call. */
  readonly body: Record<string, unknown>;
  readonly method: string;
  /** The request's path and query string. */
  readonly path: string;
  /** The raw body of a REST call (S3's XML), whose JSON `body` is empty; left out beyond 1 MB. */
  readonly text?: string;
  /** Set when the fault hook answered instead of the service. */
  readonly injectedFault?: string;
}

export interface Fault {
  readonly status: number;
  /** The JSON error type, e.g. `com.amazonaws.sqs#QueueDoesNotExist`; for S3, the XML error's code, e.g. `AccessDenied`. */
  readonly type: string;
  readonly message: string;
  /** SQS's JSON protocol also names the query-compatible error code in this header. */
  readonly queryErrorCode?: string;
}

export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Decides, per call, whether to answer with a fault instead of forwarding. */
  fault?: (call: RecordedCall) => Fault | undefined;
  stop(): Promise<void>;
}

const CREDENTIAL = /Credential=([^/,\s]+)\//;
const MAX_TEXT_BYTES = 1024 * 1024;

const readBody = (incoming: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });

const parseJson = (raw: Buffer): Record<string, unknown> => {
  if (raw.length === 0) return {};
  const parsed: unknown = JSON.parse(raw.toString('utf8'));
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
};

/** `upstream` may be given later, as a function read at each call (a service that starts after its callers are configured). */
export const startRecordingProxy = (service: RecordedService, upstream: string | (() => string)): Promise<RecordingProxy> => {
  const calls: RecordedCall[] = [];
  const proxy: { fault?: RecordingProxy['fault'] } = {};

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const raw = await readBody(incoming);
    const amzTarget = String(incoming.headers['x-amz-target'] ?? '');
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const call: RecordedCall = {
      service,
      accessKeyId: CREDENTIAL.exec(String(incoming.headers.authorization ?? ''))?.[1] ?? 'anonymous',
      operation: amzTarget.slice(amzTarget.lastIndexOf('.') + 1) || `${method} ${path}`,
      body: amzTarget ? parseJson(raw) : {},
      method,
      path,
      ...(!amzTarget && raw.length > 0 && raw.length <= MAX_TEXT_BYTES ? { text: raw.toString('utf8') } : {}),
    };
    const fault = proxy.fault?.(call);
    if (fault) {
      calls.push({ ...call, injectedFault: fault.type });
      if (service === 's3') {
        // S3's REST protocol answers errors in XML.
        outgoing.writeHead(fault.status, { 'content-type': 'application/xml' });
        outgoing.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.type}</Code><Message>${fault.message}</Message></Error>`);
        return;
      }
      outgoing.writeHead(fault.status, {
        'content-type': 'application/x-amz-json-1.0',
        ...(fault.queryErrorCode ? { 'x-amzn-query-error': `${fault.queryErrorCode};Sender` } : {}),
      });
      outgoing.end(JSON.stringify({ __type: fault.type, message: fault.message }));
      return;
    }
    calls.push(call);
    const target = new URL(typeof upstream === 'string' ? upstream : upstream());
    const forwarded = request(
      { hostname: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    forwarded.end(raw);
  };

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      outgoing.writeHead(500);
      outgoing.end(String(error));
    });
  });
  // The clients it records pool their connections, and some of their calls are sent once (a counter update).
  keepIdleConnections(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('the proxy has no port'));
      resolve(
        Object.assign(proxy, {
          endpoint: `http://127.0.0.1:${address.port}`,
          calls,
          stop: () =>
            new Promise<void>((done) => {
              server.closeAllConnections();
              server.close(() => done());
            }),
        }),
      );
    });
  });
};
