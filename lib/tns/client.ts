/**
 * A client of the Transient Name Server's bot API: form POSTs (`api_key`, and `data` as JSON) to
 * /api/get/search and /api/get/object, identified by the bot's `tns_marker` User-Agent, answered with JSON
 * `{id_code, id_message, data}`; and the daily public-objects file. TNS limits each bot's requests: the
 * client waits when `x-rate-limit-remaining` reaches 0 and, on HTTP 429, waits `x-rate-limit-reset` seconds
 * (60 when that is not a whole number) and tries again. Every request has a timeout and follows the
 * caller's abort signal. The API key is sent only in the request body and never appears in an error.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { TaskRunnerError } from '../domain/errors';
import type { TaskLogger } from '../runner';
import type { TnsCredentials } from './credentials';
import { type TnsObject, tnsObjectSchema } from './objects';

export class TnsError extends TaskRunnerError {}
/** TNS refused the bot's credentials (HTTP 401/403): retrying cannot help. */
export class TnsCredentialsError extends TnsError {}
/** TNS answered something this client cannot read, or an error code. */
export class TnsReplyError extends TnsError {}
/** Still rate-limited after every retry. */
export class TnsRateLimitError extends TnsError {}
export class TnsTimeoutError extends TnsError {}

/** Seconds to wait on a 429 whose reset header is missing or not a whole number. */
export const RATE_LIMIT_FALLBACK_SECONDS = 60;
/** TNS's largest search page. */
export const SEARCH_PAGE_SIZE = 50;
/** No search reads more pages than this (50 × 200 = 10,000 objects). */
const MAX_SEARCH_PAGES = 200;

export interface TnsClientOptions {
  readonly credentials: TnsCredentials;
  /** Per request, in ms. @default 30_000 */
  readonly timeoutMs?: number;
  /** Retries after a 429 before giving up. @default 5 */
  readonly rateLimitRetries?: number;
  /** Retries after a 5xx or a network error. @default 2 */
  readonly serverErrorRetries?: number;
  readonly signal?: AbortSignal;
  readonly logger?: TaskLogger;
  /** How the client waits (tests replace it to check the waits without taking them). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called once per HTTP request sent, with its endpoint and status (for metrics). */
  readonly onResponse?: (endpoint: string, status: number) => void;
}

/** One hit of a search: the object's name and id. */
export interface TnsSearchHit {
  readonly objname: string;
  readonly objid?: number | string;
}

const envelopeSchema = z.looseObject({
  id_code: z.coerce.number(),
  id_message: z.string().optional(),
  data: z.unknown().optional(),
});

const searchHitSchema = z.looseObject({ objname: z.string().min(1), objid: z.union([z.number(), z.string()]).optional() });

/** TNS has answered both `data: [...]` and `data: {reply: [...]}`; this reads either. */
const unwrapReply = (data: unknown): unknown =>
  data !== null && typeof data === 'object' && !Array.isArray(data) && 'reply' in data ? data.reply : data;

/** Whole seconds from a rate-limit header, or undefined if it is not one. */
const wholeSeconds = (header: string | null): number | undefined => {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header);
};

const defaultSleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal });

const formatSearchTime = (time: Date) => time.toISOString().slice(0, 19).replace('T', ' ');

export class TnsClient {
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Set when TNS said the window's requests are used up: no request goes out before this epoch ms. */
  private pausedUntil = 0;

  constructor(private readonly options: TnsClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** The `tns_marker` that identifies the bot to TNS. */
  get userAgent(): string {
    const { botId, botName } = this.options.credentials;
    // The layout of TNS's own examples; the values are JSON-escaped.
    return `tns_marker{"tns_id": ${JSON.stringify(botId)}, "type": "bot", "name": ${JSON.stringify(botName)}}`;
  }

  /** Every object made public at or after `since`, through as many pages as TNS returns. */
  async searchPublishedSince(since: Date): Promise<TnsSearchHit[]> {
    const hits: TnsSearchHit[] = [];
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const reply = await this.callApi('search', {
        public_timestamp: formatSearchTime(since),
        num_page: String(SEARCH_PAGE_SIZE),
        page: String(page),
      });
      const parsed = z.array(searchHitSchema).safeParse(unwrapReply(reply));
      if (!parsed.success) throw new TnsReplyError(`TNS search reply is not a list of objects: ${parsed.error.issues[0]?.message ?? ''}`);
      hits.push(...parsed.data);
      if (parsed.data.length < SEARCH_PAGE_SIZE) return hits;
    }
    this.options.logger?.warn('TNS search stopped at the page limit', { pages: MAX_SEARCH_PAGES, hits: hits.length });
    return hits;
  }

  /** One object's details, or undefined when TNS has no object of that name. */
  async object(objname: string): Promise<TnsObject | undefined> {
    const reply = unwrapReply(await this.callApi('object', { objname, photometry: '0', spectra: '0' }));
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
      throw new TnsReplyError(`TNS object reply for "${objname}" is not an object`);
    }
    // TNS answers an unknown name with id_code 200 and a message where the object would be.
    if (!('objname' in reply) || typeof reply.objname !== 'string') return undefined;
    const parsed = tnsObjectSchema.safeParse(reply);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TnsReplyError(`TNS object reply for "${objname}" is malformed: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
    }
    return parsed.data;
  }

  /** The zipped daily public-objects file for `date` (YYYYMMDD), or undefined if TNS has not published it. */
  async dailyFile(date: string): Promise<Uint8Array | undefined> {
    if (!/^\d{8}$/.test(date)) throw new TnsError(`a daily file's date is YYYYMMDD, not "${date}"`);
    const path = `/system/files/tns_public_objects/tns_public_objects_${date}.csv.zip`;
    const response = await this.send(path, new URLSearchParams({ api_key: this.options.credentials.apiKey }));
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new TnsError(`TNS answered HTTP ${response.status} for ${path}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /** POSTs to /api/get/<endpoint> and returns the reply's `data` when its id_code is 200. */
  private async callApi(endpoint: 'search' | 'object', data: Record<string, string>): Promise<unknown> {
    const path = `/api/get/${endpoint}`;
    const response = await this.send(path, new URLSearchParams({ api_key: this.options.credentials.apiKey, data: JSON.stringify(data) }));
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TnsReplyError(`TNS reply to ${path} is not JSON (HTTP ${response.status}): ${JSON.stringify(text.slice(0, 80))}`);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw new TnsReplyError(`TNS reply to ${path} has no id_code (HTTP ${response.status})`);
    const { id_code: code, id_message: message = '' } = envelope.data;
    if (code === 401 || code === 403) throw this.credentialsError(code);
    if (code !== 200 || !response.ok) throw new TnsReplyError(`TNS answered ${path} with id_code ${code} (HTTP ${response.status}): ${message}`);
    return envelope.data.data;
  }

  private credentialsError(status: number) {
    return new TnsCredentialsError(
      `TNS refused the bot's credentials (HTTP ${status}): check TNS_BOT_ID, TNS_BOT_NAME and TNS_BOT_API_KEY for bot "${this.options.credentials.botName}"`,
    );
  }

  /**
   * One request with the rate limit honoured: waits while the window is used up, retries a 429 after the
   * reset and a 5xx or network error after a short backoff. Refused credentials are thrown at once.
   */
  private async send(path: string, body: URLSearchParams): Promise<Response> {
    const { signal, logger, onResponse } = this.options;
    const rateLimitRetries = this.options.rateLimitRetries ?? 5;
    const serverErrorRetries = this.options.serverErrorRetries ?? 2;
    let throttled = 0;
    let failed = 0;
    for (;;) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await this.sleep(wait, signal);
      let response: Response;
      try {
        response = await fetch(`${this.options.credentials.apiUrl}${path}`, {
          method: 'POST',
          headers: { 'User-Agent': this.userAgent },
          body,
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        if (failed++ < serverErrorRetries) {
          logger?.warn('TNS request failed; retrying', { path, error: timedOut ? 'timeout' : String(error) });
          await this.sleep(1_000 * 2 ** failed, signal);
          continue;
        }
        if (timedOut) throw new TnsTimeoutError(`TNS did not answer ${path} within ${this.timeoutMs} ms`, { cause: error });
        throw new TnsError(`could not reach TNS at ${this.options.credentials.apiUrl}${path}`, { cause: error });
      }
      onResponse?.(path, response.status);
      const remaining = wholeSeconds(response.headers.get('x-rate-limit-remaining'));
      const reset = wholeSeconds(response.headers.get('x-rate-limit-reset'));
      if (response.status === 429) {
        await response.body?.cancel();
        const seconds = reset ?? RATE_LIMIT_FALLBACK_SECONDS;
        if (throttled++ >= rateLimitRetries) throw new TnsRateLimitError(`TNS kept answering 429 to ${path} after ${rateLimitRetries} waits`);
        logger?.info('TNS rate limit reached; waiting', { path, seconds });
        await this.sleep(seconds * 1000, signal);
        continue;
      }
      if (remaining === 0) this.pausedUntil = Date.now() + (reset ?? RATE_LIMIT_FALLBACK_SECONDS) * 1000;
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw this.credentialsError(response.status);
      }
      if (response.status >= 500 && failed++ < serverErrorRetries) {
        await response.body?.cancel();
        logger?.warn('TNS answered a server error; retrying', { path, status: response.status });
        await this.sleep(1_000 * 2 ** failed, signal);
        continue;
      }
      return response;
    }
  }
}
