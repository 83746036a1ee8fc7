import { describe, expect, it } from 'vitest';
import { MAX_TIMESTAMP_YEAR, MIN_TIMESTAMP_YEAR, describeTransientIssues, readTimestamp, transientNameSchema, transientSchema } from '../../lib/domain/transient';

const valid = { name: '2024abc', raDeg: 10, decDeg: -5, publicTimestamp: '2024-01-15T12:34:56Z' };

describe('Function: readTimestamp', () => {
  it.each([
    ['an ISO 8601 date-time in UTC', '2024-01-15T12:34:56Z', '2024-01-15T12:34:56.000Z'],
    ['an ISO 8601 date-time with an offset', '2024-01-15T12:34:56+02:00', '2024-01-15T10:34:56.000Z'],
    ['an offset without a colon', '2024-01-15T12:34:56-0130', '2024-01-15T14:04:56.000Z'],
    ['a fraction finer than milliseconds', '2024-01-15T12:34:56.123456789Z', '2024-01-15T12:34:56.123Z'],
    ["TNS's own date-time, as UTC", '2024-01-15 12:34:56.789', '2024-01-15T12:34:56.789Z'],
    ['minutes without seconds', '2024-01-15 12:34', '2024-01-15T12:34:00.000Z'],
    ['a date alone, as midnight UTC', '2024-01-15', '2024-01-15T00:00:00.000Z'],
    ['29 February of a leap year', '2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['the first instant of 1900', '1900-01-01T00:00:00Z', '1900-01-01T00:00:00.000Z'],
    ['the last instant of 9999', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads %s', (_case, text, iso) => {
    expect(readTimestamp(text)).toEqual({ iso });
  });

  it.each([
    ['a bare number, which Date.parse reads as 2001', '1'],
    ['a word', 'soon'],
    ['a day the month does not have', '2024-02-30'],
    ['29 February of a common year', '2023-02-29T00:00:00Z'],
    ['a thirteenth month', '2024-13-01'],
    ['hour 24', '2024-01-15T24:00:00Z'],
    ['a five-digit year', '+010000-01-01T00:00:00Z'],
    ['a two-digit year', '24-01-15'],
    ['a date written the American way', '01/15/2024'],
    ['an RFC 2822 date', 'Mon, 15 Jan 2024 12:00:00 GMT'],
  ])('refuses %s as not a date', (_case, text) => {
    expect(readTimestamp(text)).toEqual({ issue: 'public timestamp is not a date (use ISO 8601)' });
  });

  it.each([
    ['year 1', '0001-01-01T00:00:00Z'],
    ['the last second of 1899', '1899-12-31T23:59:59Z'],
    ['1900 that is 1899 in UTC', '1900-01-01T00:30:00+01:00'],
    ['9999 that is 10000 in UTC', '9999-12-31T23:00:00-02:00'],
  ])(`refuses %s, outside ${MIN_TIMESTAMP_YEAR}–${MAX_TIMESTAMP_YEAR}`, (_case, text) => {
    expect(readTimestamp(text)).toEqual({ issue: 'public timestamp must fall in the years 1900–9999' });
  });
});

describe('Function: transientNameSchema', () => {
  it.each([['2024abc'], ['2010H'], ['ZTF24aaabcde'], ['SN 2024abc'], ['PS1-10abc'], ['Gaia24a_b.c'], ['PSN J01234567+1234567'], ['MASTER OT J012345.67-123456.7']])('accepts %s', (name) => {
    expect(transientNameSchema.parse(name)).toBe(name);
  });

  it.each([
    ['a terminal escape', '2024a\u001b[2J', 'U+001B at position 6'],
    ['a C1 control introducing an escape', '2024\u009b31m', 'U+009B at position 5'],
    ['a slash', '2024/a', 'U+002F at position 5'],
    ['a backslash', '2024\\a', 'U+005C at position 5'],
    ['the key separator', '2024#a', 'U+0023 at position 5'],
    ['a bidirectional override', '2024\u202eabc', 'U+202E at position 5'],
    ['a zero-width space', '2024\u200babc', 'U+200B at position 5'],
    ['a line separator', '2024\u2028abc', 'U+2028 at position 5'],
    ['a lone surrogate', '2024\ud800abc', 'U+D800 at position 5'],
    ['a tab inside', '2024\tabc', 'U+0009 at position 5'],
    ['an IAM wildcard', '2024*', 'U+002A at position 5'],
    ['a quote', "2024'a", 'U+0027 at position 5'],
    ['a non-ASCII look-alike', '2024аbc', 'U+0430 at position 5'],
    ['a character outside the BMP after it', '2024😀a', 'U+1F600 at position 5'],
  ])('refuses a name with %s, naming the character by its code point only', (_case, name, where) => {
    const parsed = transientNameSchema.safeParse(name);
    expect(parsed.success).toBe(false);
    const reason = parsed.error ? describeTransientIssues(parsed.error) : '';
    expect(reason).toBe(`name may hold only letters, digits, spaces and . _ + - (${where})`);
    expect(reason).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}]/u);
  });
});

describe('Function: transientSchema', () => {
  it('stores the public timestamp as the ISO string the priority key sorts on', () => {
    expect(transientSchema.parse({ ...valid, publicTimestamp: '2024-01-15 12:34:56' }).publicTimestamp).toBe('2024-01-15T12:34:56.000Z');
  });

  it('gives every reason of a bad transient in one line', () => {
    const parsed = transientSchema.safeParse({ ...valid, name: 'a/b', publicTimestamp: '1' });
    expect(parsed.error && describeTransientIssues(parsed.error)).toBe(
      'name may hold only letters, digits, spaces and . _ + - (U+002F at position 2); public timestamp is not a date (use ISO 8601)',
    );
  });
});
