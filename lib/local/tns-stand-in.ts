/**
 * A local stand-in for the Transient Name Server, on a free loopback port: the bot API's /api/get/search
 * (paged) and /api/get/object, the daily public-objects files (a zipped CSV with its title line), the
 * bot's credentials checked on every request, rate-limit headers, 429s when the window's requests run out
 * and — like the real one on a busy day — a 429 now and then. It serves sample objects from
 * fixtures/tns/objects.yaml; `npm start -- --tns-local` and the tests use it.
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { strToU8, zipSync } from 'fflate';
import { parse } from 'yaml';
import { z } from 'zod';
import { FixtureError } from '../domain/errors';
import { tnsDateToIso } from '../../runners/tns/objects';

export const TNS_OBJECTS_FIXTURE = 'fixtures/tns/objects.yaml';

/** An object as the bot API's object reply gives it (only `objname` is required here). */
export type TnsObjectRecord = Readonly<Record<string, unknown>> & { readonly objname: string };

const objectsFile = z.object({ objects: z.array(z.looseObject({ objname: z.coerce.string().min(1) })) });

export const loadTnsObjects = (file = TNS_OBJECTS_FIXTURE): TnsObjectRecord[] => {
  const parsed = objectsFile.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new FixtureError(`${file}: expected {objects: [{objname, radeg, decdeg, ...}]}: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data.objects;
};

/** The daily file's columns, as TNS writes them. */
export const DAILY_COLUMNS = [
  'objid', 'name_prefix', 'name', 'ra', 'declination', 'redshift', 'typeid', 'type', 'reporting_groupid', 'reporting_group',
  'source_groupid', 'source_group', 'discoverydate', 'discoverymag', 'discmagfilter', 'filter', 'reporters', 'time_received',
  'internal_names', 'creationdate', 'lastmodified',
] as const;

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '""';
  return `"${String(value).replace(/"/g, '""')}"`;
};

const fields = z.record(z.string(), z.unknown());

/** `value[key]` when `value` is an object (TNS nests a type, a filter and a group in the object reply). */
const nested = (value: unknown, key: string): unknown => {
  const parsed = fields.safeParse(value);
  return parsed.success ? parsed.data[key] : undefined;
};

/** A daily CSV as TNS writes it: a title line, the header, one row per object. */
export const dailyCsv = (date: string, objects: readonly TnsObjectRecord[]): string => {
  const day = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  const rows = objects.map((object) => {
    const cells: Record<(typeof DAILY_COLUMNS)[number], unknown> = {
      objid: object.objid,
      name_prefix: object.name_prefix,
      name: object.objname,
      ra: object.radeg,
      declination: object.decdeg,
      redshift: object.redshift,
      typeid: nested(object.object_type, 'id'),
      type: nested(object.object_type, 'name'),
      reporting_groupid: nested(object.reporting_group, 'group_id'),
      reporting_group: nested(object.reporting_group, 'group_name'),
      source_groupid: undefined,
      source_group: undefined,
      discoverydate: object.discoverydate,
      discoverymag: object.discoverymag,
      discmagfilter: nested(object.discmagfilter, 'id'),
      filter: nested(object.discmagfilter, 'name'),
      reporters: object.reporters,
      time_received: object.discoverydate,
      internal_names: object.internal_names,
      creationdate: object.discoverydate,
      lastmodified: `${day} 12:00:00`,
    };
    return DAILY_COLUMNS.map((column) => csvCell(cells[column])).join(',');
  });
  return [`"${day} 00:00:00 - 23:59:59"`, DAILY_COLUMNS.map(csvCell).join(','), ...rows].join('\n') + '\n';
};

export const zipDailyCsv = (date: string, csv: string): Uint8Array => zipSync({ [`tns_public_objects_${date}.csv`]: strToU8(csv) });

export interface TnsStandInCredentials {
  readonly botId: string;
  readonly botName: string;
  readonly apiKey: string;
}

/** A reply the test wants instead of the normal one (a redirect, a huge body or header, a zip bomb). */
export interface CannedReply {
  readonly status: number;
  /** Text is sent as JSON, bytes as a zip. */
  readonly body: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TnsStandInOptions {
  /** @default loadTnsObjects() */
  readonly objects?: readonly TnsObjectRecord[];
  /** The bot the stand-in accepts. @default localTnsCredentials */
  readonly credentials?: TnsStandInCredentials;
  /** When each object was made public (epoch ms). @default one minute apart, the last one a minute before start */
  readonly publishedAt?: (object: TnsObjectRecord, index: number) => number;
  /** Requests allowed per window. @default 30 */
  readonly rateLimit?: number;
  /** @default 2 */
  readonly windowSeconds?: number;
  /** Answer every n-th request with a 429 (0: never). @default 0 */
  readonly throttleEvery?: number;
  /** The x-rate-limit-reset value sent with those 429s. @default '1' */
  readonly throttleReset?: string;
  /** Daily CSV text by date (YYYYMMDD); other dates are 404. @default every date lists every object */
  readonly dailyFiles?: Readonly<Record<string, string>>;
  /** `{data: {reply: ...}}`, as TNS answered before 2023, instead of `{data: ...}`. @default false */
  readonly wrappedReplies?: boolean;
  /**
   * Replaces the reply to a request (malformed replies, outages) when it returns one; `form` is the request's
   * whole form, the API key with it, for replies that echo the request.
   */
  readonly override?: (path: string, data: Readonly<Record<string, unknown>> | undefined, form: URLSearchParams) => CannedReply | undefined;
}

/** The bot `npm start -- --tns-local` uses; the stand-in accepts no other by default. */
export const localTnsCredentials: TnsStandInCredentials = { botId: '1', botName: 'blast_local_bot', apiKey: 'local-stand-in-key' };

export interface StandInRequest {
  readonly path: string;
  readonly status: number;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly userAgent?: string;
}

const json = (id_code: number, id_message: string, data?: unknown) => JSON.stringify({ id_code, id_message, ...(data === undefined ? {} : { data }) });

const DAILY_FILE = /^\/system\/files\/tns_public_objects\/tns_public_objects_(\d{8})\.csv\.zip$/;

export class TnsStandIn {
  /** Every request answered, in order, without the API key. */
  readonly requests: StandInRequest[] = [];
  private readonly objects = new Map<string, TnsObjectRecord>();
  private readonly published = new Map<string, number>();
  private windowStart = 0;
  private inWindow = 0;
  private served = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: TnsStandInOptions,
    private readonly credentials: TnsStandInCredentials,
  ) {}

  /** Listens on a free loopback port. */
  static async start(options: TnsStandInOptions = {}): Promise<TnsStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const standIn = new TnsStandIn(server, `http://127.0.0.1:${port}`, options, options.credentials ?? localTnsCredentials);
    const started = Date.now();
    const objects = options.objects ?? loadTnsObjects();
    objects.forEach((object, index) =>
      standIn.publish(object, options.publishedAt?.(object, index) ?? started - (objects.length - index) * 60_000),
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      standIn.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    return standIn;
  }

  /** Adds or replaces an object, made public at `at`. */
  publish(object: TnsObjectRecord, at = Date.now()): void {
    this.objects.set(object.objname, object);
    this.published.set(object.objname, at);
  }

  /** Changes fields of a known object, as TNS does when a redshift or a classification comes in. */
  revise(objname: string, changes: Readonly<Record<string, unknown>>): void {
    const object = this.objects.get(objname);
    if (!object) throw new Error(`the stand-in has no object "${objname}"`);
    this.objects.set(objname, { ...object, ...changes, objname });
  }

  /** The environment the TNS runners read their credentials from, pointing at this stand-in. */
  environment(): Record<string, string> {
    return {
      TNS_BOT_ID: this.credentials.botId,
      TNS_BOT_NAME: this.credentials.botName,
      TNS_BOT_API_KEY: this.credentials.apiKey,
      TNS_API_URL: this.url,
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorised(request: IncomingMessage, form: URLSearchParams): boolean {
    const agent = request.headers['user-agent'] ?? '';
    if (!agent.startsWith('tns_marker')) return false;
    try {
      const marker = z.object({ tns_id: z.coerce.string(), type: z.literal('bot'), name: z.string() }).parse(JSON.parse(agent.slice('tns_marker'.length)));
      return marker.tns_id === this.credentials.botId && marker.name === this.credentials.botName && form.get('api_key') === this.credentials.apiKey;
    } catch {
      return false;
    }
  }

  /** Counts the request against the window; returns the rate-limit headers and whether it is over the limit. */
  private rateLimit(): { headers: Record<string, string>; limited: boolean } {
    const limit = this.options.rateLimit ?? 30;
    const windowMs = (this.options.windowSeconds ?? 2) * 1000;
    const now = Date.now();
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.inWindow++;
    const every = this.options.throttleEvery ?? 0;
    const sporadic = every > 0 && ++this.served % every === 0;
    const reset = Math.max(1, Math.ceil((this.windowStart + windowMs - now) / 1000));
    const headers = {
      'x-rate-limit-limit': String(limit),
      'x-rate-limit-remaining': String(Math.max(0, limit - this.inWindow)),
      'x-rate-limit-reset': sporadic ? (this.options.throttleReset ?? '1') : String(reset),
    };
    return { headers, limited: sporadic || this.inWindow > limit };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.url).pathname;
    const form = new URLSearchParams(await text(request));
    let data: Record<string, unknown> | undefined;
    try {
      const parsed = fields.safeParse(JSON.parse(form.get('data') ?? 'null'));
      data = parsed.success ? parsed.data : undefined;
    } catch {
      data = undefined;
    }
    const reply = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}) => {
      this.requests.push({ path, status, ...(data ? { data } : {}), ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}) });
      const type = typeof body === 'string' ? 'application/json' : 'application/zip';
      response.writeHead(status, { 'content-type': type, ...headers });
      response.end(body);
    };
    const { headers, limited } = this.rateLimit();
    if (request.method !== 'POST') return reply(405, json(405, 'Method Not Allowed'), headers);
    if (limited) return reply(429, json(429, 'Too Many Requests'), headers);
    if (!this.authorised(request, form)) return reply(401, json(401, 'Unauthorized'), headers);
    const canned = this.options.override?.(path, data, form);
    if (canned) return reply(canned.status, canned.body, { ...headers, ...canned.headers });
    const wrap = (value: unknown) => (this.options.wrappedReplies ? { received_data: data, reply: value } : value);

    if (path === '/api/get/search') {
      const sinceText = typeof data?.public_timestamp === 'string' ? data.public_timestamp : '';
      const since = sinceText ? Date.parse(tnsDateToIso(sinceText) ?? '') : 0;
      if (Number.isNaN(since)) return reply(400, json(400, 'Bad request: public_timestamp is not a date'), headers);
      const pageSize = Math.min(50, Math.max(1, Number(data?.num_page ?? 50) || 50));
      const page = Math.max(0, Number(data?.page ?? 0) || 0);
      const hits = [...this.objects.values()]
        .filter((object) => (this.published.get(object.objname) ?? 0) >= since)
        .sort((a, b) => (this.published.get(a.objname) ?? 0) - (this.published.get(b.objname) ?? 0))
        .slice(page * pageSize, (page + 1) * pageSize)
        .map((object) => ({ objname: object.objname, prefix: object.name_prefix, objid: object.objid }));
      return reply(200, json(200, 'OK', wrap(hits)), headers);
    }
    if (path === '/api/get/object') {
      const objname = typeof data?.objname === 'string' ? data.objname : '';
      const object = this.objects.get(objname);
      // TNS answers an unknown name with 200 and a message in place of the object.
      const found = object ?? { objname: { 110: { message: 'No results found.', message_id: 110 } } };
      return reply(200, json(200, 'OK', wrap(found)), headers);
    }
    const daily = DAILY_FILE.exec(path);
    if (daily?.[1]) {
      const date = daily[1];
      const csv = this.options.dailyFiles ? this.options.dailyFiles[date] : dailyCsv(date, [...this.objects.values()]);
      if (csv === undefined) return reply(404, json(404, 'Not Found'), headers);
      return reply(200, zipDailyCsv(date, csv), headers);
    }
    return reply(404, json(404, 'Not Found'), headers);
  }
}
