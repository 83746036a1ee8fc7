import { describe, expect, it } from 'vitest';
import { parseTnsCredentials } from '../../runners/tns/credentials';
import { tnsDateToIso, tnsObjectSchema, transientFromCsvRow, transientFromObject } from '../../runners/tns/objects';
import { ConfigError } from '../../lib/domain/errors';

const object = (fields: Record<string, unknown> = {}) =>
  tnsObjectSchema.parse({
    objname: '2024abc',
    objid: 150000,
    name_prefix: 'SN',
    radeg: 121.6015,
    decdeg: 1.03586,
    redshift: 0.0153,
    discoverydate: '2024-01-14 12:34:56.789',
    object_type: { name: 'SN Ia', id: 3 },
    ...fields,
  });

describe('Function: tnsDateToIso', () => {
  it.each([
    ['2024-01-14 12:34:56.789', '2024-01-14T12:34:56.789Z'],
    ['2024-01-14 12:34:56', '2024-01-14T12:34:56.000Z'],
    ['2024-01-14T12:34:56+02:00', '2024-01-14T10:34:56.000Z'],
  ])('reads TNS time %s as UTC', (text, iso) => {
    expect(tnsDateToIso(text)).toBe(iso);
  });

  it.each([['yesterday-ish'], ['1'], ['2024-02-30 00:00:00'], ['10000-01-01 00:00:00'], ['1899-12-31 23:59:59']])('says so when %s is no date it accepts', (text) => {
    expect(tnsDateToIso(text)).toBeUndefined();
  });
});

describe('Function: transientFromObject', () => {
  it("maps an object reply to Blast's transient fields", () => {
    expect(transientFromObject(object())).toEqual({
      ok: true,
      transient: {
        name: '2024abc',
        raDeg: 121.6015,
        decDeg: 1.03586,
        publicTimestamp: '2024-01-14T12:34:56.789Z',
        redshift: 0.0153,
        spectroscopicClass: 'SN Ia',
      },
    });
  });

  it.each([['null', null], ['NaN', 'NaN'], ['an empty string', ''], ['absent', undefined]])('reads a redshift that is %s as none', (_case, redshift) => {
    const converted = transientFromObject(object({ redshift }));
    expect(converted.ok && converted.transient.redshift).toBeUndefined();
  });

  it('reads numbers written as strings, and an unclassified object', () => {
    const converted = transientFromObject(object({ radeg: '10.5', decdeg: '-20.25', redshift: '0.1', object_type: { name: null, id: null } }));
    expect(converted).toEqual({ ok: true, transient: expect.objectContaining({ raDeg: 10.5, decDeg: -20.25, redshift: 0.1 }) });
    expect(converted.ok && 'spectroscopicClass' in converted.transient).toBe(false);
  });

  it('refuses coordinates out of range with the reason', () => {
    expect(transientFromObject(object({ decdeg: 95 }))).toEqual({ ok: false, reason: 'dec must be in [-90, 90]' });
  });

  it.each([
    ['a terminal escape', '2024a\u001b]0;owned\u0007', 'U+001B at position 6'],
    ['a slash', '2024/../a', 'U+002F at position 5'],
    ['a bidirectional override', '2024\u202eabc', 'U+202E at position 5'],
  ])('refuses a name with %s, with the reason', (_case, objname, where) => {
    expect(transientFromObject(object({ objname }))).toEqual({ ok: false, reason: `name may hold only letters, digits, spaces and . _ + - (${where})` });
  });

  it.each([
    ['a bare number (2001 to Date.parse)', '1', 'public timestamp is not a date (use ISO 8601)'],
    ['a day the month does not have', '2024-02-30 00:00:00', 'public timestamp is not a date (use ISO 8601)'],
    ['a year past 9999, which would jump the queue', '+010000-01-01T00:00:00Z', 'public timestamp is not a date (use ISO 8601)'],
    ['year 9999 that is 10000 in UTC', '9999-12-31T23:30:00-01:00', 'public timestamp must fall in the years 1900–9999'],
    ['a year before 1900', '1066-10-14 09:00:00', 'public timestamp must fall in the years 1900–9999'],
  ])('refuses a discovery date that is %s', (_case, discoverydate, reason) => {
    expect(transientFromObject(object({ discoverydate }))).toEqual({ ok: false, reason });
  });
});

describe('Function: transientFromCsvRow', () => {
  it("maps the daily file's columns", () => {
    const row = { name: '2024abc', ra: '121.6015', declination: '1.03586', redshift: '', discoverydate: '2024-01-14 12:34:56.789', type: 'SN II' };
    expect(transientFromCsvRow(row)).toEqual({
      ok: true,
      transient: { name: '2024abc', raDeg: 121.6015, decDeg: 1.03586, publicTimestamp: '2024-01-14T12:34:56.789Z', spectroscopicClass: 'SN II' },
    });
  });

  it.each([
    ['no name', { ra: '1', declination: '2', discoverydate: '2024-01-01 00:00:00' }, 'name is empty'],
    ['a word for ra', { name: 'x', ra: 'abc', declination: '2', discoverydate: '2024-01-01 00:00:00' }, 'ra must be a number of degrees'],
    ['no date', { name: 'x', ra: '1', declination: '2' }, 'public timestamp is missing'],
    ['a bad date', { name: 'x', ra: '1', declination: '2', discoverydate: 'soon' }, 'public timestamp is not a date (use ISO 8601)'],
    ['a bare number for a date', { name: 'x', ra: '1', declination: '2', discoverydate: '1' }, 'public timestamp is not a date (use ISO 8601)'],
    ['a year past 9999', { name: 'x', ra: '1', declination: '2', discoverydate: '12024-01-01 00:00:00' }, 'public timestamp is not a date (use ISO 8601)'],
    ['a terminal escape in the name', { name: 'x\u001b[31m', ra: '1', declination: '2', discoverydate: '2024-01-01 00:00:00' }, 'name may hold only letters, digits, spaces and . _ + - (U+001B at position 2)'],
  ])('refuses a row with %s', (_case, row, reason) => {
    expect(transientFromCsvRow(row)).toEqual({ ok: false, reason });
  });
});

describe('Function: parseTnsCredentials', () => {
  const values = { TNS_BOT_ID: '12345', TNS_BOT_NAME: 'blast_bot', TNS_BOT_API_KEY: 'abcdef0123456789' };

  it('defaults to the real TNS', () => {
    expect(parseTnsCredentials(values, 'test')).toEqual({ botId: '12345', botName: 'blast_bot', apiKey: 'abcdef0123456789', apiUrl: 'https://www.wis-tns.org' });
  });

  it('takes another site, such as the sandbox, from TNS_API_URL', () => {
    expect(parseTnsCredentials({ ...values, TNS_API_URL: 'https://sandbox.wis-tns.org/' }, 'test').apiUrl).toBe('https://sandbox.wis-tns.org');
  });

  it.each([
    ['loopback by address', 'http://127.0.0.1:4545', 'http://127.0.0.1:4545'],
    ['loopback over IPv6', 'http://[::1]:4545/', 'http://[::1]:4545'],
    ['localhost', 'http://localhost:4545', 'http://localhost:4545'],
  ])('accepts plain http:// only to %s (the local stand-in)', (_case, url, apiUrl) => {
    expect(parseTnsCredentials({ ...values, TNS_API_URL: url }, 'test').apiUrl).toBe(apiUrl);
  });

  it.each([
    ['plain http:// to a remote site', 'http://www.wis-tns.org', /TNS_API_URL must be https:\/\/ \(http:\/\/ only to 127\.0\.0\.1, \[::1\], localhost\), not "http:\/\/www\.wis-tns\.org\/"/],
    ['a host that only starts like loopback', 'http://127.0.0.1.example.org', /must be https:\/\/.*not "http:\/\/127\.0\.0\.1\.example\.org\/"/],
    ['another scheme', 'ftp://www.wis-tns.org', /must be https:\/\/.*not "ftp:\/\/www\.wis-tns\.org\/"/],
    ['a user name and password', 'https://bot:hunter2@www.wis-tns.org', /TNS_API_URL must not hold a user name or password \("https:\/\/www\.wis-tns\.org\/"\)/],
    ['a query', 'https://www.wis-tns.org/?token=hunter2', /TNS_API_URL must not hold a query or fragment \("https:\/\/www\.wis-tns\.org\/"\)/],
    ['no URL at all', 'hunter2', /TNS_API_URL is not a URL/],
  ])('refuses a TNS_API_URL with %s, naming what to fix but no secret', (_case, url, message) => {
    const attempt = () => parseTnsCredentials({ ...values, TNS_API_URL: url }, 'the environment');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    expect(attempt).not.toThrow(/hunter2|abcdef0123456789/);
  });

  it('names what is missing or invalid and never shows a value', () => {
    const attempt = () => parseTnsCredentials({ TNS_BOT_ID: 'not-a-number-secret', TNS_BOT_NAME: 'blast_bot' }, 'the environment');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/TNS_BOT_ID is invalid, TNS_BOT_API_KEY is missing/);
    expect(attempt).not.toThrow(/not-a-number-secret/);
  });
});
