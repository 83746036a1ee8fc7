import { describe, expect, it } from 'vitest';
import {
  ArtifactLimitError,
  addToManifest,
  artifactKey,
  artifactLimits,
  runOfArtifactKey,
  runPrefix,
  validateArtifactName,
} from '../../lib/domain/artifacts';
import { NonRetryableTaskError } from '../../lib/domain/errors';

const artifact = (name: string, prefix = 'sn/A/m.1/') => ({ name, key: `${prefix}${name}`, size: 3, sha256: 'a'.repeat(64) });

describe('Function: artifactKey', () => {
  it('keys a run\'s artifact by transient, task and run, each part encoded, the name as given', () => {
    expect(artifactKey('2010H', 'Cutout download', 'abcd1234.99', 'cutouts/g.fits')).toBe('2010H/Cutout%20download/abcd1234.99/cutouts/g.fits');
    expect(runPrefix('SN 2024/x', 'Host match', 'r.1')).toBe('SN%202024%2Fx/Host%20match/r.1/');
  });

  it('finds the run a key belongs to, and no run for a key that is not one', () => {
    expect(runOfArtifactKey('SN%202024%2Fx/Host%20match/r.1/cutouts/g.fits')).toEqual({ transient: 'SN 2024/x', task: 'Host match', runId: 'r.1', name: 'cutouts/g.fits' });
    expect(runOfArtifactKey('2010H/Host%20match/r.1')).toBeUndefined();
    expect(runOfArtifactKey('%E0%A4%A/t/r/x')).toBeUndefined();
  });
});

describe('Function: validateArtifactName', () => {
  it.each([['g.fits'], ['cutouts/2MASS_H.fits'], ['posterior-1.h5'], ['a'.repeat(artifactLimits.nameLength)]])('accepts %s', (name) => {
    expect(validateArtifactName(name)).toBe(name);
  });

  it.each([
    ['', /non-empty/],
    ['../other-run/g.fits', /no "\.\."/],
    ['cutouts/../../x', /no "\.\."/],
    ['/etc/passwd', /no leading/],
    ['_output.json', /starting with a letter or digit/],
    ['a//b', /parts of letters/],
    ['spaces are not.fits', /parts of letters/],
    ['x'.repeat(artifactLimits.nameLength + 1), /longer than 128/],
  ])('refuses %j, saying why', (name, reason) => {
    expect(() => validateArtifactName(name)).toThrow(ArtifactLimitError);
    expect(() => validateArtifactName(name)).toThrow(reason);
  });

  it('fails a run at once: its error is not retried', () => {
    expect(new ArtifactLimitError('x')).toBeInstanceOf(NonRetryableTaskError);
  });
});

describe('Function: addToManifest', () => {
  it('adds, and replaces an artifact put again under its name', () => {
    const once = addToManifest({}, artifact('g.fits'), 'sn/A/m.1/');
    const twice = addToManifest(once, { ...artifact('g.fits'), size: 5 }, 'sn/A/m.1/');
    expect(Object.values(twice)).toEqual([{ ...artifact('g.fits'), size: 5 }]);
  });

  it(`refuses a run's artifact number ${artifactLimits.perRun + 1}, but not a replacement at the limit`, () => {
    let manifest = {};
    for (let i = 0; i < artifactLimits.perRun; i++) manifest = addToManifest(manifest, artifact(`f${i}`), 'sn/A/m.1/');
    expect(() => addToManifest(manifest, artifact('one-more'), 'sn/A/m.1/')).toThrow(/at most 32 artifacts/);
    expect(Object.keys(addToManifest(manifest, artifact('f0'), 'sn/A/m.1/'))).toHaveLength(artifactLimits.perRun);
  });

  it.each([
    ['a key of another run', { ...artifact('g.fits'), key: 'sn/A/other/g.fits' }, /not this run's/],
    ['a negative size', { ...artifact('g.fits'), size: -1 }, /size -1/],
    ['a size over the limit', { ...artifact('g.fits'), size: artifactLimits.bytes + 1 }, /at most/],
    ['a checksum that is not SHA-256 hex', { ...artifact('g.fits'), sha256: 'xyz' }, /not a SHA-256/],
  ])('refuses %s, as a Python run may report it', (_case, entry, reason) => {
    expect(() => addToManifest({}, entry, 'sn/A/m.1/')).toThrow(reason);
  });
});
