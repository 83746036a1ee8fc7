/** The TNS client against the local stand-in: a real HTTP server on loopback, speaking the bot API. */
import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { type TnsStandInOptions, TnsStandIn, type TnsObjectRecord, loadTnsObjects, localTnsCredentials } from '../../lib/local/tns-stand-in';
import {
  MAX_RATE_LIMIT_WAIT_SECONDS,
  MAX_REPLY_BYTES,
  TnsClient,
  type TnsClientOptions,
  TnsCredentialsError,
  TnsRateLimitError,
  TnsReplyError,
  TnsTimeoutError,
} from '../../runners/tns/client';
import { openDailyFile } from '../../runners/tns/daily-file';

let standIn: TnsStandIn | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A plain HTTP server on a free loopback port, closed after the test. */
const listen = async (handler: RequestListener): Promise<{ url: string; requests: string[] }> => {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    handler(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
};

/** A server whose every reply is 200 and a body that never ends, written as fast as the client reads. */
const endlessBody = () =>
  listen((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const write = () => {
      while (response.write(piece));
    };
    response.on('drain', write);
    response.write('{"id_code": 200, "data": "');
    write();
  });

const KEY = localTnsCredentials.apiKey;

const start = async (options: TnsStandInOptions = {}) => {
  standIn = await TnsStandIn.start(options);
  return standIn;
};

/** A client of the stand-in that records its waits instead of taking them. */
const clientOf = (server: TnsStandIn, options: Partial<TnsClientOptions> = {}) => {
  const waits: number[] = [];
  const client = new TnsClient({
    credentials: { ...localTnsCredentials, apiUrl: server.url },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { client, waits };
};

const generated = (count: number): TnsObjectRecord[] =>
  Array.from({ length: count }, (_, i) => ({ objname: `2024x${i}`, radeg: i, decdeg: 0, discoverydate: '2024-01-01 00:00:00' }));

describe('Class: TnsClient', () => {
  it('identifies the bot with its tns_marker and finds objects made public since a time, page by page', async () => {
    // Prepare: 120 objects in the last two hours, 5 older ones.
    const now = Date.now();
    const server = await start({
      objects: [...generated(125)],
      publishedAt: (_object, index) => (index < 5 ? now - 5 * 3_600_000 : now - index * 30_000),
    });
    const { client } = clientOf(server);

    // Act
    const hits = await client.searchPublishedSince(new Date(now - 2 * 3_600_000));

    // Assess
    expect(hits).toHaveLength(120);
    expect(new Set(hits.map((hit) => hit.objname)).size).toBe(120);
    expect(hits.map((hit) => hit.objname)).not.toContain('2024x0');
    const searches = server.requests.filter((request) => request.path === '/api/get/search');
    expect(searches.map((request) => request.data?.page)).toEqual(['0', '1', '2']);
    expect(searches[0]?.data).toMatchObject({ num_page: '50', public_timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    expect(searches[0]?.userAgent).toBe('tns_marker{"tns_id": "1", "type": "bot", "name": "blast_local_bot"}');
  });

  it("returns an object's details, and nothing for a name TNS does not know", async () => {
    const { client } = clientOf(await start());
    expect(await client.object('2010H')).toMatchObject({ objname: '2010H', radeg: 121.6015, object_type: { name: 'SN Ia' } });
    expect(await client.object('1999zzz')).toBeUndefined();
  });

  it('reads the older replies that wrap their data in "reply"', async () => {
    const { client } = clientOf(await start({ wrappedReplies: true }));
    expect((await client.searchPublishedSince(new Date(0))).length).toBe(loadTnsObjects().length);
    expect(await client.object('2010ag')).toMatchObject({ objname: '2010ag' });
  });

  it('waits out a 429 for the seconds TNS says, then retries', async () => {
    const server = await start({ throttleEvery: 2 });
    const { client, waits } = clientOf(server);

    const objects = [await client.object('2010H'), await client.object('2010ag'), await client.object('2010ai')];

    expect(objects.map((object) => object?.objname)).toEqual(['2010H', '2010ag', '2010ai']);
    expect(server.requests.map((request) => request.status)).toEqual([200, 429, 200, 429, 200]);
    expect(waits).toEqual([1000, 1000]);
  });

  it('waits 60 s when a 429 gives no whole number of seconds to wait', async () => {
    const { client, waits } = clientOf(await start({ throttleEvery: 2, throttleReset: 'soon' }));
    await client.object('2010H');
    await client.object('2010ag');
    expect(waits).toEqual([60_000]);
  });

  it('gives up with a clear error when TNS keeps refusing', async () => {
    const { client, waits } = clientOf(await start({ throttleEvery: 1 }), { rateLimitRetries: 2 });
    await expect(client.object('2010H')).rejects.toThrow(TnsRateLimitError);
    expect(waits).toHaveLength(2);
  });

  it("pauses before the next request once the window's requests are used up, instead of drawing a 429", async () => {
    const server = await start({ rateLimit: 2, windowSeconds: 1 });
    const { client } = clientOf(server, { sleep: undefined });
    const started = Date.now();

    for (const name of ['2010H', '2010ag', '2010ai']) await client.object(name);

    expect(server.requests.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('says the credentials were refused, without retrying and without the API key', async () => {
    const server = await start();
    const { client } = clientOf(server, { credentials: { ...localTnsCredentials, apiKey: 'wrong-key-123', apiUrl: server.url } });

    const error = await client.searchPublishedSince(new Date(0)).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(TnsCredentialsError);
    expect((error as Error).message).toMatch(/HTTP 401.*TNS_BOT_API_KEY/);
    expect((error as Error).message).not.toMatch(/wrong-key-123/);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['a page that is not JSON', { status: 200, body: '<html>Service Unavailable</html>' }, /not JSON/],
    ['JSON without an id_code', { status: 200, body: '{"data": []}' }, /has no id_code/],
    ['an error id_code', { status: 400, body: '{"id_code": 400, "id_message": "Bad request"}' }, /id_code 400.*Bad request/],
    ['an object with unreadable coordinates', { status: 200, body: '{"id_code": 200, "id_message": "OK", "data": {"objname": "2010H", "radeg": {}, "decdeg": 1, "discoverydate": "2010-01-16"}}' }, /malformed: radeg/],
  ])('refuses %s with a TnsReplyError', async (_case, canned, message) => {
    const { client } = clientOf(await start({ override: (path) => (path === '/api/get/object' ? canned : undefined) }));
    const attempt = client.object('2010H');
    await expect(attempt).rejects.toThrow(TnsReplyError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses a search reply that is not a list of objects', async () => {
    const { client } = clientOf(await start({ override: () => ({ status: 200, body: '{"id_code": 200, "id_message": "OK", "data": {"objname": 5}}' }) }));
    await expect(client.searchPublishedSince(new Date(0))).rejects.toThrow(/not a list of objects/);
  });

  it('gives up on a TNS that does not answer, after its timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = new TnsClient({ credentials: { ...localTnsCredentials, apiUrl: url }, timeoutMs: 200, serverErrorRetries: 0 });
    try {
      await expect(client.object('2010H')).rejects.toThrow(TnsTimeoutError);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('downloads the zipped daily file, and nothing for a day not published', async () => {
    const { client } = clientOf(await start({ dailyFiles: { '20240115': 'title\n"name","ra","declination","discoverydate"\n"2024a",1,2,"2024-01-15 01:00:00"\n' } }));

    const zip = await client.dailyFile('20240115');

    expect(zip && openDailyFile(zip).csvName).toBe('tns_public_objects_20240115.csv');
    expect(await client.dailyFile('20240116')).toBeUndefined();
  });
});

describe('Class: TnsClient, distrusting what answers', () => {
  it.each([[301], [302], [303], [307], [308]])('refuses a %i redirect to another origin without following it', async (status) => {
    // Prepare: a second origin that would receive the API key if the redirect were followed.
    const elsewhere = await listen((_request, response) => response.end('{"id_code": 200, "data": []}'));
    const server = await start({ override: () => ({ status, body: '', headers: { location: `${elsewhere.url}/api/get/search` } }) });
    const { client } = clientOf(server);

    // Act
    const error = await client.searchPublishedSince(new Date(0)).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(TnsReplyError);
    expect((error as Error).message).toBe(
      `TNS answered /api/get/search with a redirect (HTTP ${status} to ${elsewhere.url}); redirects are not followed, so the API key goes only to ${server.url}`,
    );
    expect((error as Error).message).not.toContain(KEY);
    expect(elsewhere.requests).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a redirect of the daily file and of an object too, and names only the origin it points to', async () => {
    const server = await start({ override: () => ({ status: 307, body: '', headers: { location: `https://mirror.example/steal?key=${KEY}` } }) });
    const { client } = clientOf(server);

    await expect(client.dailyFile('20240115')).rejects.toThrow(/redirect \(HTTP 307 to https:\/\/mirror\.example\)/);
    const error = await client.object('2010H').catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(TnsReplyError);
    expect((error as Error).message).not.toContain(KEY);
  });

  it.each([['http://www.wis-tns.org'], ['http://10.0.0.1:8080'], ['ftp://www.wis-tns.org']])('refuses to be built for %s, before any request', (apiUrl) => {
    expect(() => new TnsClient({ credentials: { ...localTnsCredentials, apiUrl } })).toThrow(ConfigError);
    expect(() => new TnsClient({ credentials: { ...localTnsCredentials, apiUrl } })).toThrow(/TNS_API_URL must be https:\/\//);
  });

  it(`refuses a JSON reply larger than ${MAX_REPLY_BYTES} bytes`, async () => {
    const body = JSON.stringify({ id_code: 200, id_message: 'OK', data: 'x'.repeat(MAX_REPLY_BYTES) });
    const { client } = clientOf(await start({ override: () => ({ status: 200, body }) }));

    await expect(client.object('2010H')).rejects.toThrow(new TnsReplyError(`TNS reply to /api/get/object is more than the ${MAX_REPLY_BYTES} bytes this client reads`));
  });

  it('refuses a reply whose Content-Length is past the cap without reading it', async () => {
    const declared = await listen((_request, response) => {
      response.writeHead(200, { 'content-length': String(MAX_REPLY_BYTES + 1) });
      response.write('{"id_code": 200');
    });
    const client = new TnsClient({ credentials: { ...localTnsCredentials, apiUrl: declared.url } });

    await expect(client.object('2010H')).rejects.toThrow(
      new TnsReplyError(`TNS reply to /api/get/object is ${MAX_REPLY_BYTES + 1} bytes, more than the ${MAX_REPLY_BYTES} this client reads`),
    );
  });

  it('stops reading a reply that never ends once it passes the cap', async () => {
    const endless = await endlessBody();
    const client = new TnsClient({ credentials: { ...localTnsCredentials, apiUrl: endless.url }, serverErrorRetries: 0 });

    await expect(client.searchPublishedSince(new Date(0))).rejects.toThrow(
      new TnsReplyError(`TNS reply to /api/get/search is more than the ${MAX_REPLY_BYTES} bytes this client reads`),
    );
  });

  it('refuses a daily file larger than its cap, whether sent in one piece or streamed without end', async () => {
    const big = await start({ override: () => ({ status: 200, body: new Uint8Array(2048) }) });
    const endless = await endlessBody();
    const capped = (apiUrl: string) => new TnsClient({ credentials: { ...localTnsCredentials, apiUrl }, maxDailyFileBytes: 1024 });

    await expect(capped(big.url).dailyFile('20240115')).rejects.toThrow(/daily file .* is more than the 1024 bytes this client reads/);
    await expect(capped(endless.url).dailyFile('20240115')).rejects.toThrow(/daily file .* is more than the 1024 bytes this client reads/);
  });

  it(`waits at most ${MAX_RATE_LIMIT_WAIT_SECONDS} s on a 429, whatever x-rate-limit-reset says`, async () => {
    const logger = { debug: () => undefined, info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined };
    const warnings: string[] = [];
    const { client, waits } = clientOf(await start({ throttleEvery: 2, throttleReset: '864000000' }), { logger });

    await client.object('2010H');
    await client.object('2010ag');

    expect(waits).toEqual([MAX_RATE_LIMIT_WAIT_SECONDS * 1000]);
    expect(warnings).toContain('TNS asked for a longer rate-limit wait than the cap; waiting the cap');
  });

  it(`pauses at most ${MAX_RATE_LIMIT_WAIT_SECONDS} s when the window is used up, whatever x-rate-limit-reset says`, async () => {
    const server = await start({
      override: (path) => (path === '/api/get/search' ? undefined : { status: 200, body: '{"id_code": 200, "data": {}}', headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '99999999999999999999' } }),
    });
    const { client, waits } = clientOf(server);

    await client.object('2010H');
    await client.searchPublishedSince(new Date(0));

    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(MAX_RATE_LIMIT_WAIT_SECONDS * 1000 - 5_000);
    expect(waits[0]).toBeLessThanOrEqual(MAX_RATE_LIMIT_WAIT_SECONDS * 1000);
  });

  it("gives up a rate-limit wait when the run's signal is aborted", async () => {
    const controller = new AbortController();
    const { client } = clientOf(await start({ throttleEvery: 1, throttleReset: '864000000' }), { sleep: undefined, signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('the run is out of time')), 100);

    await expect(client.object('2010H')).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses an OK reply that quotes the API key back, even JSON-escaped, and a daily file that holds it', async () => {
    // Prepare: a server echoing the request's key into its data (as a name, a class, a file name).
    const bot = { ...localTnsCredentials, apiKey: 'k3y/with+slash' };
    const server = await start({
      credentials: bot,
      override: (path, _data, form) => {
        const key = form.get('api_key') ?? '';
        if (path === '/api/get/search') return { status: 200, body: JSON.stringify({ id_code: 200, data: [{ objname: key }] }) };
        if (path === '/api/get/object') {
          return { status: 200, body: `{"id_code": 200, "data": {"objname": "2010H", "radeg": 1, "decdeg": 2, "discoverydate": "2010-01-16", "type": "${key.replaceAll('/', '\\/')}"}}` };
        }
        return { status: 200, body: zipSync({ [`${key}.csv`]: strToU8('name\n') }) };
      },
    });
    const { client } = clientOf(server, { credentials: { ...bot, apiUrl: server.url } });

    // Act and assess
    await expect(client.searchPublishedSince(new Date(0))).rejects.toThrow(new TnsReplyError('TNS reply to /api/get/search quotes the API key back, so nothing in it is read'));
    await expect(client.object('2010H')).rejects.toThrow(new TnsReplyError('TNS reply to /api/get/object quotes the API key back, so nothing in it is read'));
    await expect(client.dailyFile('20240115')).rejects.toThrow(/^the daily file \/system\/files\/tns_public_objects\/tns_public_objects_20240115\.csv\.zip quotes the API key back, so it is not read$/);
  });

  it.each([
    ['an HTML error page', { status: 502, body: `<html>Bad gateway. You sent: api_key=${KEY}&data=...</html>` }, /not JSON \(HTTP 502\): "<html>Bad gateway\. You sent: api_key=\[api key\]/],
    ['an id_message', { status: 400, body: JSON.stringify({ id_code: 400, id_message: `Bad request: api_key ${KEY} is not allowed` }) }, /id_code 400 \(HTTP 400\): "Bad request: api_key \[api key\] is not allowed"/],
  ])('blanks the API key out of %s that echoes the request', async (_case, canned, message) => {
    const { client } = clientOf(await start({ override: () => canned }), { serverErrorRetries: 0 });

    const error = await client.object('2010H').catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(TnsReplyError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(KEY);
  });
});
