/**
 * Secrets stay secret: the TNS system runners run through the real system-worker handler on the local runtime
 * (its Powertools logger at DEBUG, its EMF metrics on), with the bot's credentials in a Secrets Manager
 * stand-in as in AWS, and a distinctive fake API key. Over the four TNS paths — live search, object fetch,
 * daily file, 429 waits — and the failures where a key would leak (replies echoing the request, 401/403, a
 * redirect carrying the key, replies over their cap, an OK reply quoting the key, a 429 that never ends), the
 * key appears, as sent, encoded or in part, in no line written to stdout or stderr (logs and EMF), no error
 * thrown (message, stack, causes), no item of the table and no message left in the queues. (The TNS runners
 * have no queue, so they write no dead-letter record or lastError; the scan of the whole table would find one.)
 */
import { inspect } from 'node:util';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime';
import { localAwsEnv, localClientConfig } from '../../lib/local/services';
import { type CannedReply, TnsStandIn, dailyCsv, loadTnsObjects } from '../../lib/local/tns-stand-in';
import { registry } from '../../runners/registry';
import { SystemTaskName } from '../../runners/system-tasks';
import { MAX_DAILY_FILE_BYTES, MAX_REPLY_BYTES, TnsCredentialsError, TnsError, TnsRateLimitError, TnsReplyError } from '../../runners/tns/client';
import { TNS_SECRET_NAME } from '../../runners/tns/credentials';
import { dailyFileDate } from '../../runners/tns/daily-file';
import { TnsMetric } from '../../runners/tns/ingestion';
import { SecretsManagerStandIn } from '../helpers/secrets-manager-stand-in';
import { drainQueue, startTestRuntime } from '../helpers/local-stack';

/** A fake key no code or fixture holds, with characters that URL and form encoding write differently. */
const API_KEY = 'FAKEtnsKEY-5ecret_0f-the-bot+/=&~ x';
/** Characters in a row of the key that count as a leak: a line with "the key's first characters" leaks too. */
const FRAGMENT_LENGTH = 8;
/** The key as it could surface: as sent, form-encoded (the request body), URL-encoded, in base64, and any fragment of it. */
const KEY_FORMS = [
  API_KEY,
  new URLSearchParams({ k: API_KEY }).toString().slice(2),
  encodeURIComponent(API_KEY),
  Buffer.from(API_KEY).toString('base64'),
  ...Array.from({ length: API_KEY.length - FRAGMENT_LENGTH + 1 }, (_, start) => API_KEY.slice(start, start + FRAGMENT_LENGTH)),
];
const BOT = { botId: '4242', botName: 'blast_secrets_bot', apiKey: API_KEY };

const LIVE = SystemTaskName.TnsDataIngestion;
const DAILY = SystemTaskName.IngestMissedTnsTransients;
const objects = loadTnsObjects();
const yesterday = dailyFileDate(Date.now());
const dailyObject = { objname: '2024sec1', radeg: 12.5, decdeg: -7.25, discoverydate: `${yesterday.slice(0, 4)}-${yesterday.slice(4, 6)}-${yesterday.slice(6)} 01:00:00` };

/** The lines of `texts` (each split at its line breaks) that hold the key in any of its forms. */
const leaks = (texts: readonly string[]): string[] =>
  texts.flatMap((text) => text.split('\n')).filter((line) => KEY_FORMS.some((form) => line.includes(form)));

/** Everything written to stdout and stderr (Powertools' log lines and EMF documents) or the console, kept instead of shown. */
const captureOutput = () => {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  const consoles = (['debug', 'info', 'log', 'warn', 'error'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: null }))).join(' '));
    }),
  );
  return {
    lines,
    restore: () => {
      streams.forEach((stream, index) => {
        stream.write = writes[index] ?? stream.write;
      });
      consoles.forEach((spy) => spy.mockRestore());
    },
  };
};

type Override = (path: string, data: Readonly<Record<string, unknown>> | undefined, form: URLSearchParams) => CannedReply | undefined;

const Endpoint = { Search: '/api/get/search', Object: '/api/get/object', DailyFile: '/system/files/tns_public_objects/' } as const;
type Endpoint = (typeof Endpoint)[keyof typeof Endpoint];
const isEndpoint = (path: string, endpoint: Endpoint) => path.startsWith(endpoint);

/** What the request said, as an error page that echoes it would show it. */
const echo = (form: URLSearchParams) => `you sent ${form.toString()} (api_key "${form.get('api_key') ?? ''}")`;
const jsonEcho = (status: number, form: URLSearchParams) =>
  JSON.stringify({ id_code: status, id_message: `Error: ${echo(form)}`, data: Object.fromEntries(form) });

/** An OK reply that quotes the key back inside its data (a misbehaving proxy or mirror in TNS's place). */
const quotingKey = (endpoint: Endpoint, path: string, data: Readonly<Record<string, unknown>> | undefined, form: URLSearchParams): CannedReply => {
  const key = form.get('api_key') ?? '';
  if (endpoint === Endpoint.Search) return { status: 200, body: JSON.stringify({ id_code: 200, id_message: 'OK', data: [{ objname: key }] }) };
  if (endpoint === Endpoint.Object) {
    const object = objects.find((candidate) => candidate.objname === data?.objname) ?? objects[0];
    return { status: 200, body: JSON.stringify({ id_code: 200, id_message: 'OK', data: { ...object, object_type: { name: key } } }) };
  }
  // The key in the CSV's name and, stored uncompressed, in a row's class (a deflated row is not searched: see client.ts).
  const csv = dailyCsv(yesterday, [{ ...dailyObject, object_type: { name: key } }]);
  return { status: 200, body: zipSync({ [`${path.split('/').pop() ?? ''}-${key}.csv`]: [strToU8(csv), { level: 0 }] }) };
};

const Failure = {
  EchoPage: 'an error page echoing the request',
  EchoJson: 'an error reply whose message and data echo the request',
  Unauthorized: 'a 401 echoing the request',
  Forbidden: 'a 403 echoing the request',
  Redirect: 'a redirect whose Location carries the key',
  OverCap: 'a reply over its cap, made of the key',
  QuotesKey: 'an OK reply quoting the key in its data',
  Throttled: 'a 429 every time, echoing the request',
} as const;
type Failure = (typeof Failure)[keyof typeof Failure];

/** The reply each failure gives in place of TNS's. */
const failing = (failure: Failure, endpoint: Endpoint): Override => {
  const zipped = endpoint === Endpoint.DailyFile;
  return (path, data, form) => {
    if (!isEndpoint(path, endpoint)) return undefined;
    switch (failure) {
      case Failure.EchoPage:
        return { status: 400, body: `<html><body>400 Bad Request: ${echo(form)}</body></html>` };
      case Failure.EchoJson:
        return { status: 400, body: jsonEcho(400, form) };
      case Failure.Unauthorized:
        return { status: 401, body: jsonEcho(401, form) };
      case Failure.Forbidden:
        return { status: 403, body: jsonEcho(403, form) };
      case Failure.Redirect:
        return { status: 307, body: jsonEcho(307, form), headers: { location: `https://mirror.example/${encodeURIComponent(API_KEY)}?${form.toString()}` } };
      case Failure.OverCap:
        return zipped
          ? { status: 200, body: Buffer.alloc(MAX_DAILY_FILE_BYTES + 1, form.get('api_key') ?? '') }
          : { status: 200, body: `{"id_code": 200, "data": "${(form.get('api_key') ?? '').repeat(MAX_REPLY_BYTES / 16)}"}` };
      case Failure.QuotesKey:
        return quotingKey(endpoint, path, data, form);
      case Failure.Throttled:
        // Waits of 0 s: the client's five retries go at once.
        return { status: 429, body: jsonEcho(429, form), headers: { 'x-rate-limit-reset': '0' } };
    }
  };
};

/** What each failure must end the run with. */
const expectedError: Record<Failure, { type: new (...args: never[]) => TnsError; message: RegExp }> = {
  [Failure.EchoPage]: { type: TnsError, message: /HTTP 400/ },
  [Failure.EchoJson]: { type: TnsError, message: /HTTP 400/ },
  [Failure.Unauthorized]: { type: TnsCredentialsError, message: /refused the bot's credentials \(HTTP 401\)/ },
  [Failure.Forbidden]: { type: TnsCredentialsError, message: /refused the bot's credentials \(HTTP 403\)/ },
  [Failure.Redirect]: { type: TnsReplyError, message: /redirect \(HTTP 307 to https:\/\/mirror\.example\)/ },
  [Failure.OverCap]: { type: TnsReplyError, message: /more than the \d+( bytes)? this client reads/ },
  [Failure.QuotesKey]: { type: TnsReplyError, message: /quotes the API key back/ },
  [Failure.Throttled]: { type: TnsRateLimitError, message: /kept answering 429/ },
};

/** Every `every`-th request is answered 429 with a one-second wait (the body echoing the request). */
const throttling = (every: number): Override => {
  let requests = 0;
  return (_path, _data, form) => (++requests % every === 0 ? { status: 429, body: jsonEcho(429, form), headers: { 'x-rate-limit-reset': '1' } } : undefined);
};

describe('Integration: the TNS API key stays secret', () => {
  let runtime: LocalRuntime;
  let tns: TnsStandIn;
  let secrets: SecretsManagerStandIn;
  let output: ReturnType<typeof captureOutput>;
  let answer: Override = () => undefined;
  const saved = Object.fromEntries(['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_DISABLED', 'SECRET_ARNS', 'AWS_ENDPOINT_URL_SECRETS_MANAGER'].map((name) => [name, process.env[name]]));

  /** One scheduled run of `task` through the system-worker handler: what it threw, and what it wrote. */
  const run = async (task: string) => {
    const from = output.lines.length;
    const error = await runtime.invokeSystemRunner(task).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    return { error, lines: output.lines.slice(from), text: [...output.lines.slice(from), inspect(error, { depth: null })] };
  };

  beforeAll(async () => {
    tns = await TnsStandIn.start({
      credentials: BOT,
      override: (...args) => answer(...args),
      dailyFiles: { [yesterday]: dailyCsv(yesterday, [...objects, dailyObject]) },
    });
    secrets = await SecretsManagerStandIn.start({ region: localAwsEnv.AWS_REGION, account: '123456789012' });
    const secret = secrets.createSecret(TNS_SECRET_NAME, tns.environment());
    output = captureOutput();
    runtime = await startTestRuntime(registry, {
      environment: {
        // Every log line, DEBUG included, and the EMF metrics the vitest configuration turns off.
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        POWERTOOLS_METRICS_DISABLED: 'false',
        SECRET_ARNS: JSON.stringify({ [TNS_SECRET_NAME]: secret.arn }),
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      },
    });
  });
  afterAll(async () => {
    output?.restore();
    await runtime?.stop();
    await Promise.all([tns?.stop(), secrets?.stop()]);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it.each([
    ...Object.values(Failure).map((failure) => [Endpoint.Search, failure] as const),
    ...Object.values(Failure).map((failure) => [Endpoint.Object, failure] as const),
    ...Object.values(Failure).map((failure) => [Endpoint.DailyFile, failure] as const),
  ])('%s answered with %s: the run fails, and its error and output hold no key', async (endpoint, failure) => {
    // Prepare
    answer = failing(failure, endpoint);

    // Act
    const { error, text } = await run(endpoint === Endpoint.DailyFile ? DAILY : LIVE);

    // Assess: the key did not get out, and the failure did reach the client (an echoed key is blanked out of what is quoted).
    expect(leaks(text)).toEqual([]);
    expect(error).toBeInstanceOf(expectedError[failure].type);
    expect((error as Error).message).toMatch(expectedError[failure].message);
    const echoQuoted = (failure === Failure.EchoPage || failure === Failure.EchoJson) && endpoint !== Endpoint.DailyFile;
    if (echoQuoted) expect((error as Error).message).toContain('[api key]');
    expect(isEndpoint(tns.requests.at(-1)?.path ?? '', endpoint)).toBe(true);
  }, 60_000);

  it('an object fetch answered with a server error echoing the request is retried, and the key is in no log line', async () => {
    // Prepare: the first object request fails with a 503 echoing the request.
    let failed = false;
    answer = (path, _data, form) => {
      if (failed || !isEndpoint(path, Endpoint.Object)) return undefined;
      failed = true;
      return { status: 503, body: `<html>503 Service Unavailable: ${echo(form)}</html>` };
    };

    // Act
    const { error, lines, text } = await run(LIVE);

    // Assess
    expect(error).toBeUndefined();
    expect(lines.join('')).toContain('TNS answered a server error; retrying');
    expect(leaks(text)).toEqual([]);
  }, 60_000);

  it('the live search and object fetch wait out 429s, log and count them, and write no key', async () => {
    // Prepare
    answer = throttling(6);
    const before = tns.requests.length;

    // Act
    const { error, lines, text } = await run(LIVE);

    // Assess: the waits happened, were logged at INFO and counted in EMF, through the output this test reads.
    expect(error).toBeUndefined();
    expect(tns.requests.slice(before).filter((request) => request.status === 429).length).toBeGreaterThanOrEqual(3);
    expect(runtime.engine.logger.getLevelName()).toBe('DEBUG');
    expect(lines.join('')).toContain('"message":"TNS rate limit reached; waiting"');
    expect(lines.join('')).toContain('"message":"TNS data ingestion done"');
    expect(lines.some((line) => line.includes('"_aws"') && line.includes(TnsMetric.Throttled))).toBe(true);
    expect(leaks(text)).toEqual([]);
  }, 120_000);

  it('the daily file waits out a 429, is ingested and checkpointed, and writes no key', async () => {
    // Prepare
    let throttled = false;
    answer = (_path, _data, form) => {
      if (throttled) return undefined;
      throttled = true;
      return { status: 429, body: jsonEcho(429, form), headers: { 'x-rate-limit-reset': '1' } };
    };

    // Act
    const { error, lines, text } = await run(DAILY);

    // Assess
    expect(error).toBeUndefined();
    expect(tns.requests.slice(-2).map((request) => request.status)).toEqual([429, 200]);
    expect(lines.join('')).toContain('"message":"daily file ingested"');
    expect(await runtime.engine.store.systemState.read(DAILY)).toMatchObject({ file: yesterday, finished: true });
    expect(leaks(text)).toEqual([]);
  }, 120_000);

  it('leaves no key in any item of the table or any message in the queues', async () => {
    // Act: every item (transients and their registers, readiness markers, counters, the checkpoint, locks) and
    // every message the runs sent.
    const dynamo = new DynamoDBClient(localClientConfig(inject('dynamodbEndpoint')));
    const items: string[] = [];
    let page: ScanCommandOutput | undefined;
    do {
      page = await dynamo.send(new ScanCommand({ TableName: runtime.resources.tableName, ExclusiveStartKey: page?.LastEvaluatedKey }));
      items.push(...(page.Items ?? []).map((item) => JSON.stringify(item)));
    } while (page.LastEvaluatedKey);
    dynamo.destroy();
    const messages = (await Promise.all(runtime.queueUrls().map((url) => drainQueue(url)))).flat().map((message) => JSON.stringify(message));

    // Assess: the runs did write (so there is something to search), and none of it holds the key.
    expect(items.some((item) => item.includes('2010H'))).toBe(true);
    expect(items.some((item) => item.includes(dailyObject.objname))).toBe(true);
    expect(messages.length).toBeGreaterThan(0);
    expect(leaks(items)).toEqual([]);
    expect(leaks(messages)).toEqual([]);
  }, 60_000);
});
