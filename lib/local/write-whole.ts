/**
 * Writes a file whole or not at all: to a file beside it, then a rename over it, so that a reader at the same moment
 * (a CLI reading the endpoints, a test or `tsx` importing a generated module) sees the old content or the new, never
 * a truncated one.
 */
import { renameSync, writeFileSync } from 'node:fs';

export const writeFileWhole = (path: string, content: string): void => {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, content);
  renameSync(partial, path);
};
