import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { TnsReplyError } from '../../lib/tns/client';
import { type DailyRow, dailyFileDate, openDailyFile } from '../../lib/tns/daily-file';
import { dailyCsv, loadTnsObjects } from '../../lib/local/tns-stand-in';

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
    expect(() => openDailyFile(strToU8('<html>maintenance</html>'))).toThrow(TnsReplyError);
    expect(() => openDailyFile(zipSync({ 'readme.txt': strToU8('hi') }))).toThrow(/holds no CSV/);
  });
});

describe('Function: dailyFileDate', () => {
  it("names yesterday's file in UTC", () => {
    expect(dailyFileDate(Date.parse('2024-03-01T00:30:00Z'))).toBe('20240229');
  });
});
