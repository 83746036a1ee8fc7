import { describe, expect, it } from 'vitest';
import { parseTnsCredentials } from '../../lib/tns/credentials';
import { tnsDateToIso, tnsObjectSchema, transientFromCsvRow, transientFromObject } from '../../lib/tns/objects';
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

  it('says so when the text is no date', () => {
    expect(tnsDateToIso('yesterday-ish')).toBeUndefined();
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

  it('names what is missing or invalid and never shows a value', () => {
    const attempt = () => parseTnsCredentials({ TNS_BOT_ID: 'not-a-number-secret', TNS_BOT_NAME: 'blast_bot' }, 'the environment');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/TNS_BOT_ID is invalid, TNS_BOT_API_KEY is missing/);
    expect(attempt).not.toThrow(/not-a-number-secret/);
  });
});
