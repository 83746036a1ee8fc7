import { describe, expect, it } from 'vitest';
import { TransientFileError, parseTransientText, readTransientFile } from '../../lib/transient-files';

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
