/**
 * `npm start`'s web view: the page's bundle and its API (lib/web) on one node:http server on loopback, at a free
 * port. The API is under /api; config.json tells the page so. Here every caller is the operator: the server
 * listens on loopback only, for the person who started it.
 */
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { coerceError } from '../domain/errors';
import type { WebApi, WebConfig } from '../web/contract';

/** Where the API is below the server's root. */
export const LOCAL_API_BASE = '/api';

/** What the page reads first: where its API is (the deployed stack writes its own, with sign-in). */
const localConfig: WebConfig = { apiUrl: LOCAL_API_BASE };

/** Largest request body read (the controls' bodies are a few names). */
const MAX_BODY_BYTES = 64 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
} as const;

class BodyTooLargeError extends Error {}

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

export interface LocalWebServer {
  readonly url: string;
  stop(): Promise<void>;
}

export const startWebServer = async (options: { readonly api: WebApi; readonly staticDir: string; readonly port?: number }): Promise<LocalWebServer> => {
  const send = (response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) => {
    response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
    response.end(body);
  };

  const serveApi = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    let body: string | undefined;
    try {
      body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await readBody(request);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      send(response, 413, { 'content-type': 'application/json' }, JSON.stringify({ error: 'the body is too large' }));
      return;
    }
    const result = await options.api({
      method: request.method ?? 'GET',
      path: url.pathname.slice(LOCAL_API_BASE.length) || '/',
      query: Object.fromEntries(url.searchParams),
      ...(body === undefined ? {} : { body }),
      caller: { operator: true, name: 'local' },
    });
    send(response, result.status, { ...result.headers }, result.body);
  };

  const serveFile = async (response: ServerResponse, pathname: string) => {
    if (pathname === '/config.json') {
      send(response, 200, { 'content-type': CONTENT_TYPES['.json'] ?? '', 'cache-control': 'no-store' }, JSON.stringify(localConfig));
      return;
    }
    const relative = normalize(pathname === '/' ? '/index.html' : pathname).replace(/^(\.\.[/\\])+/, '');
    const type = CONTENT_TYPES[extname(relative)];
    const content = type ? await readFile(join(options.staticDir, relative)).catch(() => undefined) : undefined;
    if (!type || !content) {
      send(response, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found');
      return;
    }
    send(response, 200, { 'content-type': type, 'cache-control': 'no-cache' }, content);
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const work = url.pathname === LOCAL_API_BASE || url.pathname.startsWith(`${LOCAL_API_BASE}/`) ? serveApi(request, response, url) : serveFile(response, url.pathname);
    work.catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { 'content-type': 'text/plain; charset=utf-8' }, `internal error: ${coerceError(error).message}`);
      else response.destroy();
    });
  });
  // Polling browsers keep connections alive; stopping must not wait for them.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
