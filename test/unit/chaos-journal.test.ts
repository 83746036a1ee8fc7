import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { type JournalEvent, followJournal, readJournal } from '../../lib/chaos/journal';

const file = () => join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
const deleted = (messageId: string): JournalEvent => ({ type: 'delete', messageId, at: 1 });
const line = (event: JournalEvent) => `${JSON.stringify(event)}\n`;

describe('Function: followJournal', () => {
  it('returns every event so far, reading only what was appended, and a line being written only once it is whole', () => {
    // Prepare
    const path = file();
    const events = followJournal(path);
    expect(events()).toEqual([]);
    writeFileSync(path, line(deleted('m1')));

    // Act / Assess
    expect(events()).toEqual([deleted('m1')]);
    appendFileSync(path, `${line(deleted('m2'))}{"type":"delete","messa`);
    expect(events()).toEqual([deleted('m1'), deleted('m2')]);
    appendFileSync(path, 'geId":"m3","at":1}\n');
    expect(events()).toEqual([deleted('m1'), deleted('m2'), deleted('m3')]);
    expect(readJournal(path)).toEqual(events());
  });

  it('names the line that is not a journal event', () => {
    const path = file();
    writeFileSync(path, `${line(deleted('m1'))}{"type":"meteor"}\n`);
    expect(() => followJournal(path)()).toThrow(ConfigError);
    expect(() => readJournal(path)).toThrow(/journal\.jsonl:2: not a journal event/);
  });
});
