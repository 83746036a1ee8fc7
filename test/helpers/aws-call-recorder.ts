/**
 * A recording proxy on loopback in front of DynamoDB Local or the SQS emulator. Every request is forwarded
 * unchanged; on the way it records who made it (the access key id of the SigV4 credential scope, one per
 * function), the operation (X-Amz-Target) and the parsed JSON body, so a test can tell which function made
 * which AWS call on which resource. A fault hook can answer a call with an error instead of forwarding it.
 */
import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';

export interface RecordedCall {
  readonly service: 'dynamodb' | 'sqs';
  readonly accessKeyId: string;
  /** The operation, e.g. `UpdateItem`, `SendMessageBatch`. */
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** Set when the fault hook answered instead of the service. */
  readonly injectedFault?: string;
}

export interface Fault {
  readonly status: number;
  /** The JSON error type, e.g. `com.amazonaws.sqs#QueueDoesNotExist`. */
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

export const startRecordingProxy = (service: RecordedCall['service'], upstream: string): Promise<RecordingProxy> => {
  const target = new URL(upstream);
  const calls: RecordedCall[] = [];
  const proxy: { fault?: RecordingProxy['fault'] } = {};

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const raw = await readBody(incoming);
    const amzTarget = String(incoming.headers['x-amz-target'] ?? '');
    const call: RecordedCall = {
      service,
      accessKeyId: CREDENTIAL.exec(String(incoming.headers.authorization ?? ''))?.[1] ?? 'anonymous',
      operation: amzTarget.slice(amzTarget.lastIndexOf('.') + 1) || `${incoming.method} ${incoming.url}`,
      body: amzTarget ? parseJson(raw) : {},
    };
    const fault = proxy.fault?.(call);
    if (fault) {
      calls.push({ ...call, injectedFault: fault.type });
      outgoing.writeHead(fault.status, {
        'content-type': 'application/x-amz-json-1.0',
        ...(fault.queryErrorCode ? { 'x-amzn-query-error': `${fault.queryErrorCode};Sender` } : {}),
      });
      outgoing.end(JSON.stringify({ __type: fault.type, message: fault.message }));
      return;
    }
    calls.push(call);
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
