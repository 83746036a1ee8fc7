/** The local runtime's web view: the page bundled into a folder of its own and served with its API (lib/web). */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sqsQueueDepths } from '../queue/queue-depths';
import { logFileLocation } from '../engine/log-location';
import { createWebApi } from '../web/api';
import { type WebBundle, bundleWebApp } from '../web/bundle';
import type { LocalRuntime } from './runtime';
import { type LocalWebServer, startWebServer } from './web-server';

export interface LocalWebView extends LocalWebServer {
  readonly bundle: WebBundle;
}

/** Bundles the page and serves it with the API over the runtime's engine, on loopback at a free port. */
export interface LocalWebViewOptions {
  readonly port?: number;
  /** The file the handlers log to, which the page names as each attempt's log. @default .blast-local/handlers.log */
  readonly logFile?: string;
}

export const startLocalWebView = async (runtime: LocalRuntime, options: LocalWebViewOptions = {}): Promise<LocalWebView> => {
  mkdirSync('.blast-local', { recursive: true });
  const dir = mkdtempSync(join('.blast-local', 'web-'));
  try {
    const bundle = await bundleWebApp(dir);
    const { queues } = runtime.describe();
    const queueDepths = sqsQueueDepths(
      runtime.sqs,
      Object.fromEntries(Object.entries(queues).map(([task, queue]) => [task, queue.url])),
      Object.fromEntries(Object.entries(queues).map(([task, queue]) => [task, queue.deadLetterUrl])),
    );
    const server = await startWebServer({ api: createWebApi({ engine: runtime.engine, queueDepths, logs: logFileLocation(options.logFile ?? join('.blast-local', 'handlers.log')) }), staticDir: dir, ...(options.port ? { port: options.port } : {}) });
    return {
      url: server.url,
      bundle,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
};
