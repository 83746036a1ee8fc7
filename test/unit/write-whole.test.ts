/** Files written whole or not at all (generated modules, the endpoints file), so a reader never meets a truncated one. */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileWhole } from '../../lib/local/write-whole';

describe('Function: writeFileWhole', () => {
  it('replaces the file by a rename of a whole new one, leaving nothing else behind', () => {
    // Prepare: the old file, as a reader holding it open would have it
    const dir = mkdtempSync(join(tmpdir(), 'write-whole-'));
    const file = join(dir, 'generated.ts');
    writeFileSync(file, 'old\n');
    const before = statSync(file).ino;

    // Act
    writeFileWhole(file, 'new\n');

    // Assess: another file took its name (truncating it in place would keep the inode), with all of the content
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['generated.ts']);
  });
});
