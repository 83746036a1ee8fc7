/**
 * A client of the Transient Name Server's bot API: form POSTs (`api_key`, and `data` as JSON) to
 * /api/get/search and /api/get/object, identified by the bot's `tns_marker` User-Agent, answered with JSON
 * `{id_code, id_message, data}`; and the daily public-objects file. TNS limits each bot's requests: the
 * client waits when `x-rate-limit-remaining` reaches 0 and, on HTTP 429, waits `x-rate-limit-reset` seconds
 * (60 when that is not a whole number, never more than {@link MAX_RATE_LIMIT_WAIT_SECONDS}) and tries again.
 * Every request has a timeout and follows the caller's abort signal. The API key is sent only in the request
 * body, only to the configured site: redirects are refused, never followed, and the site must be https://
 * (http:// only to loopback). No reply is read past its cap ({@link MAX_REPLY_BYTES},
 * {@link MAX_DAILY_FILE_BYTES}), and the key never appears in an error, even one quoting TNS's reply; a reply
 * that quotes the key back in its data is refused whole.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { TaskRunnerError } from '../../lib/domain/errors';
import { MAX_NAME_LENGTH } from '../../lib/domain/transient';
import type { TaskLogger } from '../../lib/runner';
import { type TnsCredentials, checkTnsApiUrl } from './credentials';
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
/**
 * The longest wait a rate-limit header can impose (TNS's windows are a minute or so): a broken or hostile
 * `x-rate-limit-reset` must not park a run for days. The run's abort signal still cuts any wait short.
 */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 300;
/** Largest JSON reply read: a search page of 50 hits or one object without photometry is a few KB. */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;
/**
 * Largest daily file downloaded (zipped). A day's public-objects file is a slice of TNS's catalogue, whose
 * whole CSV (~170,000 objects) is tens of MB and zips to a fraction of that.
 */
export const MAX_DAILY_FILE_BYTES = 64 * 1024 * 1024;
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
  /** Largest JSON reply read, in bytes. @default MAX_REPLY_BYTES */
  readonly maxReplyBytes?: number;
  /** Largest daily file downloaded, in bytes. @default MAX_DAILY_FILE_BYTES */
  readonly maxDailyFileBytes?: number;
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

/**
 * The body of a reply, read a chunk at a time and abandoned as soon as it passes `limit` bytes (a declared
 * Content-Length past it is refused before reading anything).
 */
const readCapped = async (response: Response, limit: number, what: string): Promise<Uint8Array> => {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new TnsReplyError(`${what} is ${declared} bytes, more than the ${limit} this client reads`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new TnsReplyError(`${what} is more than the ${limit} bytes this client reads`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
};

const defaultSleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal });

const formatSearchTime = (time: Date) => time.toISOString().slice(0, 19).replace('T', ' ');

export class TnsClient {
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Set when TNS said the window's requests are used up: no request goes out before this epoch ms. */
  private pausedUntil = 0;

  private readonly apiUrl: string;

  /** Throws a ConfigError for a site that is not https:// (or http:// to loopback), before any request. */
  constructor(private readonly options: TnsClientOptions) {
    this.apiUrl = checkTnsApiUrl(options.credentials.apiUrl);
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
      if (!parsed.success) throw this.replyError(`TNS search reply is not a list of objects: ${parsed.error.issues[0]?.message ?? ''}`);
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
      throw this.replyError(`TNS object reply for ${this.quote(objname, MAX_NAME_LENGTH)} is not an object`);
    }
    // TNS answers an unknown name with id_code 200 and a message where the object would be.
    if (!('objname' in reply) || typeof reply.objname !== 'string') return undefined;
    const parsed = tnsObjectSchema.safeParse(reply);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.replyError(`TNS object reply for ${this.quote(objname, MAX_NAME_LENGTH)} is malformed: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
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
    const zip = await readCapped(response, this.options.maxDailyFileBytes ?? MAX_DAILY_FILE_BYTES, `the daily file ${path}`);
    if (this.quotesKey(zip)) throw new TnsReplyError(`the daily file ${path} quotes the API key back, so it is not read`);
    return zip;
  }

  /** POSTs to /api/get/<endpoint> and returns the reply's `data` when its id_code is 200. */
  private async callApi(endpoint: 'search' | 'object', data: Record<string, string>): Promise<unknown> {
    const path = `/api/get/${endpoint}`;
    const response = await this.send(path, new URLSearchParams({ api_key: this.options.credentials.apiKey, data: JSON.stringify(data) }));
    const text = Buffer.from(await readCapped(response, this.options.maxReplyBytes ?? MAX_REPLY_BYTES, `TNS reply to ${path}`)).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.replyError(`TNS reply to ${path} is not JSON (HTTP ${response.status}): ${this.quote(text, 80)}`);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw this.replyError(`TNS reply to ${path} has no id_code (HTTP ${response.status})`);
    const { id_code: code, id_message: message = '' } = envelope.data;
    if (code === 401 || code === 403) throw this.credentialsError(code);
    if (code !== 200 || !response.ok) throw this.replyError(`TNS answered ${path} with id_code ${code} (HTTP ${response.status}): ${this.quote(message, 200)}`);
    // Read as JavaScript writes it: a server that escapes "/" as "\/" still quotes the key.
    if (this.quotesKey(JSON.stringify(json))) throw new TnsReplyError(`TNS reply to ${path} quotes the API key back, so nothing in it is read`);
    return envelope.data.data;
  }

  /** The API key as sent, URL-encoded and form-encoded. */
  private keyForms(): string[] {
    const { apiKey } = this.options.credentials;
    return [...new Set([apiKey, encodeURIComponent(apiKey), new URLSearchParams({ k: apiKey }).toString().slice(2)])].filter((form) => form.length > 0);
  }

  /** `text` with the API key (as sent, or form-encoded) blanked out, in case whatever answered echoed the request. */
  private redact(text: string): string {
    return this.keyForms().reduce((redacted, form) => redacted.replaceAll(form, '[api key]'), text);
  }

  /**
   * Whether a reply holds the API key. One that quotes it back (a proxy or mirror echoing the request into its
   * data) is refused whole: its names, classes and file names reach logs, the table and the queues.
   */
  private quotesKey(body: string | Uint8Array): boolean {
    const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return this.keyForms().some((form) => text.includes(form));
  }

  /** Text from TNS's reply, to quote in an error: the key blanked out first, then cut to `length` characters. */
  private quote(text: string, length: number): string {
    return JSON.stringify(this.redact(text).slice(0, length));
  }

  /** A TnsReplyError whose message may quote TNS (or whatever answered in its place), with the key blanked out. */
  private replyError(message: string) {
    return new TnsReplyError(this.redact(message));
  }

  /** A wait a rate-limit header asked for, capped at MAX_RATE_LIMIT_WAIT_SECONDS. */
  private rateLimitWait(path: string, asked: number | undefined): number {
    const seconds = asked ?? RATE_LIMIT_FALLBACK_SECONDS;
    if (seconds <= MAX_RATE_LIMIT_WAIT_SECONDS) return seconds;
    this.options.logger?.warn('TNS asked for a longer rate-limit wait than the cap; waiting the cap', { path, asked: seconds, cap: MAX_RATE_LIMIT_WAIT_SECONDS });
    return MAX_RATE_LIMIT_WAIT_SECONDS;
  }

  private credentialsError(status: number) {
    return new TnsCredentialsError(
      `TNS refused the bot's credentials (HTTP ${status}): check TNS_BOT_ID, TNS_BOT_NAME and TNS_BOT_API_KEY for bot "${this.options.credentials.botName}"`,
    );
  }

  /** " to <origin>" of a redirect's Location (only its origin: its path or query could carry anything). */
  private redirectTarget(response: Response): string {
    const location = response.headers.get('location');
    if (location === null) return '';
    try {
      return ` to ${new URL(location, this.apiUrl).origin}`;
    } catch {
      return ' to an unreadable location';
    }
  }

  /**
   * One request with the rate limit honoured: waits while the window is used up, retries a 429 after the
   * reset and a 5xx or network error after a short backoff. Refused credentials are thrown at once, and so
   * is a redirect: following one would send the API key in the body to wherever it points.
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
        response = await fetch(`${this.apiUrl}${path}`, {
          method: 'POST',
          headers: { 'User-Agent': this.userAgent },
          body,
          redirect: 'manual',
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
        throw new TnsError(`could not reach TNS at ${this.apiUrl}${path}`, { cause: error });
      }
      onResponse?.(path, response.status);
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        throw this.replyError(`TNS answered ${path} with a redirect (HTTP ${response.status}${this.redirectTarget(response)}); redirects are not followed, so the API key goes only to ${this.apiUrl}`);
      }
      const remaining = wholeSeconds(response.headers.get('x-rate-limit-remaining'));
      const reset = wholeSeconds(response.headers.get('x-rate-limit-reset'));
      if (response.status === 429) {
        await response.body?.cancel();
        const seconds = this.rateLimitWait(path, reset);
        if (throttled++ >= rateLimitRetries) throw new TnsRateLimitError(`TNS kept answering 429 to ${path} after ${rateLimitRetries} waits`);
        logger?.info('TNS rate limit reached; waiting', { path, seconds });
        await this.sleep(seconds * 1000, signal);
        continue;
      }
      if (remaining === 0) this.pausedUntil = Date.now() + this.rateLimitWait(path, reset) * 1000;
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
