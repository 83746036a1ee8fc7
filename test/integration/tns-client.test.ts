/** The TNS client against the local stand-in: a real HTTP server on loopback, speaking the bot API. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type TnsStandInOptions, TnsStandIn, type TnsObjectRecord, loadTnsObjects, localTnsCredentials } from '../../lib/local/tns-stand-in';
import { TnsClient, type TnsClientOptions, TnsCredentialsError, TnsRateLimitError, TnsReplyError, TnsTimeoutError } from '../../lib/tns/client';
import { openDailyFile } from '../../lib/tns/daily-file';

let standIn: TnsStandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

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
