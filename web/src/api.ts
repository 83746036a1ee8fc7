/**
 * Every call the page makes to its API goes through `api`: it reads config.json (next to index.html) once for
 * the API's base URL (and, when deployed, how to sign in: the call then carries the user's token, ./auth.ts), and
 * turns an answer that is not 2xx into an ApiError with the API's own message.
 */
import type { WebConfig } from '../../lib/web/contract';
import { authorizedFetch } from './auth';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let config: Promise<WebConfig> | undefined;

/** config.json, read once. */
export const webConfig = (): Promise<WebConfig> =>
  (config ??= fetch('config.json', { cache: 'no-store' }).then(async (response) => {
    if (!response.ok) throw new ApiError(response.status, `config.json: ${response.status} ${response.statusText}`);
    return (await response.json()) as WebConfig;
  }));

export interface CallOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/** Calls the API: `path` below its base (e.g. `/transients`), the query's undefined values left out. */
export const api = async <T>(method: 'GET' | 'POST', path: string, options: CallOptions = {}): Promise<T> => {
  const deployed = await webConfig();
  const { apiUrl } = deployed;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') query.set(key, String(value));
  const url = `${apiUrl.replace(/\/+$/, '')}${path}${query.size > 0 ? `?${query}` : ''}`;
  const response = await authorizedFetch(deployed, url, {
    method,
    headers: { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const error = JSON.parse(text) as { error?: string; issues?: { path: string; message: string }[] };
      if (error.error) message = [error.error, ...(error.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`)].join('; ');
    } catch {
      // Not the API's JSON (a proxy's page): the status says it.
    }
    throw new ApiError(response.status, message);
  }
  return JSON.parse(text) as T;
};

/** A path segment: a transient's or a task's name. */
export const segment = (name: string) => encodeURIComponent(name);
