import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ROW_ERRORS_SHOWN,
  TransientFileError,
  describeReadFailure,
  parseTransientText,
  printable,
  readTransientFile,
  rowErrorLines,
} from '../../lib/fixtures/transient-files';

const dir = mkdtempSync(join(tmpdir(), 'transient-files-'));
const fileWith = (name: string, content: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
};
/** The message `readTransientFile` throws for `file`. */
const readError = (file: string): string => {
  try {
    readTransientFile(file);
  } catch (error) {
    expect(error).toBeInstanceOf(TransientFileError);
    return (error as Error).message;
  }
  throw new Error(`expected ${file} to be refused`);
};
/** Control characters that would move the cursor, clear or recolour a terminal if printed. */
const TERMINAL_CONTROL = /\p{Cc}/u;

describe('Function: parseTransientText', () => {
  it('reads the sample transients, including Blast\'s three', () => {
    const { transients, errors } = readTransientFile('fixtures/sample_transients.yaml');
    expect(errors).toEqual([]);
    expect(transients.find((t) => t.name === '2010H')).toEqual({
      name: '2010H',
      raDeg: 121.6015,
      decDeg: 1.03586,
      publicTimestamp: '2010-01-16T00:00:00.000Z',
      spectroscopicClass: 'SN Ia',
    });
    expect(transients.length).toBeGreaterThanOrEqual(40);
  });

  it('reads CSV with a title line above the header, as in TNS daily files, and reports each bad row', () => {
    const csv = [
      '"2024-01-01 00:00:00 - 3 objects"',
      'objname,radeg,decdeg,discoverydate,redshift,type',
      '2024a,10.5,-5.25,2024-01-01 10:00:00,0.05,SN Ia',
      '2024b,400,10,2024-01-02 10:00:00,,',
      '2024c,11,12,not a date,NaN,SN II',
      '2024d,12,13,2024-01-03,NaN,',
    ].join('\n');

    const { transients, errors } = parseTransientText(csv, 'daily.csv');

    expect(transients.map((t) => t.name)).toEqual(['2024a', '2024d']);
    expect(transients[1]).not.toHaveProperty('redshift');
    expect(errors).toEqual([
      { row: 2, line: 4, message: 'ra must be in [0, 360)' },
      { row: 3, line: 5, message: 'public timestamp is not a date (use ISO 8601)' },
    ]);
  });

  it('reads JSON and reports missing fields and duplicates by row', () => {
    const json = JSON.stringify([
      { name: 'a', ra: 1, dec: 2, public_timestamp: '2020-01-01' },
      { name: 'b', ra: 1 },
      { name: 'a', ra: 3, dec: 4, public_timestamp: '2020-01-02' },
    ]);
    const { transients, errors } = parseTransientText(json, 'list.json');
    expect(transients).toHaveLength(1);
    expect(errors).toEqual([
      { row: 2, message: 'dec must be a number of degrees; public timestamp is missing' },
      { row: 3, message: '"a" already appears in row 1' },
    ]);
  });

  it.each([
    ['an unknown extension', 'x', 'list.txt', /unknown file type ".txt"/],
    ['invalid JSON', '{', 'list.json', /list\.json: invalid JSON/],
    ['YAML that is not a list', 'name: x', 'list.yaml', /expected a list of transients/],
  ])('rejects %s', (_case, text, file, expected) => {
    expect(() => parseTransientText(text, file)).toThrow(TransientFileError);
    expect(() => parseTransientText(text, file)).toThrow(expected);
  });
});

describe('Function: readTransientFile', () => {
  it.each([
    ['a missing file', () => join(dir, 'missing.csv'), /missing\.csv: no such file$/],
    ['a directory', () => dir, /: is a directory, not a file$/],
    ['a binary file', () => fileWith('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x1b, 0x5b, 0x32, 0x4a])), /photo\.csv: not a text file \(a NUL byte at offset 8\)/],
    ['a file that is not UTF-8', () => fileWith('latin1.csv', Buffer.from('name,ra,dec\nSN \xe9t\xe9,1,2\n', 'latin1')), /latin1\.csv: not UTF-8 text/],
  ])('says what is wrong with %s, in one line', (_case, file, expected) => {
    // Act
    const message = readError(file());

    // Assess
    expect(message).toMatch(expected);
    expect(message).not.toMatch(TERMINAL_CONTROL);
  });

  it('quotes no terminal escape of a malformed file, and at most a short excerpt of it', () => {
    // Prepare: valid UTF-8 whose first bytes would clear the screen if echoed
    const file = fileWith('escapes.json', `\u001b[2J\u001b[31m${'x'.repeat(10_000)}`);

    // Act
    const message = readError(file);

    // Assess
    expect(message).toMatch(/escapes\.json: invalid JSON: /);
    expect(message).not.toMatch(TERMINAL_CONTROL);
    expect(message).toContain('\\x1b');
    expect(message.length).toBeLessThan(300);
  });

  it('names a permission problem in words', () => {
    expect(describeReadFailure(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))).toBe('not readable (permission denied)');
  });
});

describe('Function: printable', () => {
  it.each([
    ['plain text', 'name,ra', 'name,ra'],
    ['an escape sequence', '\u001b[2J', '\\x1b[2J'],
    ['a right-to-left override', 'a\u202eb', 'a\\u{202e}b'],
    ['a replacement character', '\ufffd', '\\u{fffd}'],
    ['a long text, cut', 'y'.repeat(100), `${'y'.repeat(60)}…`],
  ])('shows %s safely', (_case, text, expected) => {
    expect(printable(text)).toBe(expected);
  });
});

describe('Function: rowErrorLines', () => {
  it(`lists the first ${ROW_ERRORS_SHOWN} rejected rows and counts the rest in one line`, () => {
    // Prepare: a file of junk, every row rejected
    const errors = Array.from({ length: 51_486 }, (_, index) => ({ row: index + 1, line: index + 2, message: 'ra must be a number of degrees' }));

    // Act
    const lines = rowErrorLines('junk.csv', errors);

    // Assess
    expect(lines).toHaveLength(ROW_ERRORS_SHOWN + 1);
    expect(lines[0]).toBe('junk.csv: row 1 (line 2): ra must be a number of degrees');
    expect(lines.at(-1)).toBe(`junk.csv: … and ${51_486 - ROW_ERRORS_SHOWN} more rejected rows (51486 in all)`);
  });

  it('lists every row when there are few', () => {
    expect(rowErrorLines('few.json', [{ row: 2, message: 'dec is missing' }])).toEqual(['few.json: row 2: dec is missing']);
  });
});
