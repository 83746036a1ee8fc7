import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { TnsReplyError } from '../../runners/tns/client';
import { type DailyRow, MAX_DAILY_CSV_BYTES, dailyFileDate, openDailyFile } from '../../runners/tns/daily-file';
import { dailyCsv, loadTnsObjects } from '../../lib/local/tns-stand-in';
import { zipBomb } from '../helpers/zip-bomb';

const zip = (csv: string) => zipSync({ 'tns_public_objects_20240115.csv': strToU8(csv) });

const readAll = async (csv: string) => {
  const rows: DailyRow[] = [];
  for await (const row of openDailyFile(zip(csv)).rows()) rows.push(row);
  return rows;
};

const header = '"objid","name_prefix","name","ra","declination","redshift","typeid","type","discoverydate","reporters"';

describe('Function: openDailyFile', () => {
  it('skips the title line and reads every row the stand-in writes', async () => {
    const objects = loadTnsObjects();
    const file = openDailyFile(zip(dailyCsv('20240115', objects)));
    const rows = [];
    for await (const row of file.rows()) rows.push(row);
    expect(file.rowCount).toBe(objects.length);
    expect(rows.map((row) => row.result.ok && row.result.transient.name)).toEqual(objects.map((object) => object.objname));
    expect(rows[0]).toMatchObject({ row: 1, line: 3 });
  });

  it('reports each bad row with its row, line and reason, and reads the good ones around it', async () => {
    const rows = await readAll(
      [
        '"2024-01-15 00:00:00 - 23:59:59"',
        header,
        '1,"SN","2024a",10.5,-5.2,0.05,3,"SN Ia","2024-01-14 12:00:00.000","A, B"',
        '2,"AT","2024b",abc,-5.2,,,,"2024-01-14 12:00:00.000","C"',
        '3,"AT","2024c",11,-5.2,NaN,,,"2024-01-14 12:00:00.000","D ""quoted"" E"',
        '4,"AT","2024d",12,-5.2,,,,"2024-01-14 1"2:00","E"',
        '5,"AT","",13,-5.2,,,,"2024-01-14 12:00:00","F"',
        '6,"AT","2024f",14,-95,,,,"2024-01-14 12:00:00","G"',
        '7,"AT","2024g",15,-5.2,,,,"2024-01-14 12:00:00","H"',
      ].join('\n'),
    );
    expect(rows.map((row) => [row.row, row.line, row.result.ok ? row.result.transient.name : row.result.reason])).toEqual([
      [1, 3, '2024a'],
      [2, 4, 'ra must be a number of degrees'],
      [3, 5, '2024c'],
      [4, 6, expect.stringMatching(/^unreadable CSV: Invalid Closing Quote/)],
      [5, 7, 'name is empty'],
      [6, 8, 'dec must be in [-90, 90]'],
      [7, 9, '2024g'],
    ]);
  });

  it('reads a file without a title line too', async () => {
    const rows = await readAll(`${header}\n1,"SN","2024a",10.5,-5.2,,,,"2024-01-14 12:00:00",""\n`);
    expect(rows).toHaveLength(1);
  });

  it('refuses what is not a zip, or a zip with no CSV', () => {
    expect(() => openDailyFile(strToU8('<html>maintenance</html>'))).toThrow(new TnsReplyError('the daily file is not a readable zip archive'));
    expect(() => openDailyFile(zipSync({ 'readme.txt': strToU8('hi') }))).toThrow(/holds no CSV/);
  });

  it('refuses a zip cut short inside its CSV', () => {
    const whole = zip(dailyCsv('20240115', loadTnsObjects()));
    expect(() => openDailyFile(whole.subarray(0, 400))).toThrow(TnsReplyError);
  });

  it('reads the first CSV of the archive, skipping other files', async () => {
    const archive = zipSync({ 'readme.txt': strToU8('hi'), 'a.csv': strToU8(`${header}\n1,"SN","2024a",10.5,-5.2,,,,"2024-01-14 12:00:00",""\n`), 'b.csv': strToU8('nothing') });
    const file = openDailyFile(archive);
    const rows = [];
    for await (const row of file.rows()) rows.push(row);
    expect(file.csvName).toBe('a.csv');
    expect(rows).toHaveLength(1);
  });

  it(`fails on a zip bomb past ${MAX_DAILY_CSV_BYTES} bytes with a clear error, whatever size its header declares`, async () => {
    // Prepare: ~1 MB that inflates past the cap, declaring itself ~1 MB.
    const bomb = await zipBomb('tns_public_objects_20240115.csv', MAX_DAILY_CSV_BYTES + 16 * 1024 * 1024, `${header}\n`);
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024);

    // Act
    const attempt = () => openDailyFile(bomb);

    // Assess
    expect(attempt).toThrow(
      new TnsReplyError(`the daily file's "tns_public_objects_20240115.csv" inflates to more than ${MAX_DAILY_CSV_BYTES} bytes, the most this runner reads; it was not ingested`),
    );
  });

  it('stops inflating as soon as the CSV passes the cap, and reads one that is exactly at it', async () => {
    const csv = `${header}\n1,"SN","2024a",10.5,-5.2,,,,"2024-01-14 12:00:00",""\n`;
    const exact = strToU8(csv).length;
    expect(openDailyFile(zip(csv), { maxCsvBytes: exact }).rowCount).toBe(1);
    expect(() => openDailyFile(zip(csv), { maxCsvBytes: exact - 1 })).toThrow(/inflates to more than/);

    // 1 GB of spaces: inflating it all would take seconds and a GB of memory; stopping at the cap does not.
    const bomb = await zipBomb('big.csv', 1024 * 1024 * 1024, `${header}\n`);
    const started = Date.now();
    expect(() => openDailyFile(bomb, { maxCsvBytes: 1024 * 1024 })).toThrow(/inflates to more than 1048576 bytes/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('Function: dailyFileDate', () => {
  it("names yesterday's file in UTC", () => {
    expect(dailyFileDate(Date.parse('2024-03-01T00:30:00Z'))).toBe('20240229');
  });
});
