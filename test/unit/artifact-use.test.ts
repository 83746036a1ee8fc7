/**
 * What a runner's roles may do with the runs' artifacts, from its declarations (lib/domain/declaration.ts
 * artifactUseOf): the stack grants exactly this, and the engine refuses the same uses locally.
 */
import { describe, expect, it } from 'vitest';
import { artifactUseOf } from '../../lib/domain/declaration';
import { runner } from '../helpers/factories';

describe('artifactUseOf', () => {
  it.each([
    [{}, { writes: false, reads: false }],
    [{ readsArtifacts: true }, { writes: false, reads: true }],
    [{ usesArtifacts: true }, { writes: true, reads: true }],
    [{ usesArtifacts: true, readsArtifacts: true }, { writes: true, reads: true }],
  ])('a runner declaring %o: %o', (settings, expected) => {
    expect(artifactUseOf(runner('A', {}, { settings }))).toEqual(expected);
  });
});
