import { describe, expect, it } from 'vitest';
import {
  EmulatorFix,
  EmulatorNotPatchedError,
  assertEmulatorPatched,
  installedEmulatorBundle,
  missingEmulatorFixes,
} from '../../lib/local/sqs-emulator-patch';

describe('Function: assertEmulatorPatched', () => {
  it('finds every fix of patches/ in the installed local-aws-sqs', () => {
    expect(missingEmulatorFixes(installedEmulatorBundle())).toEqual([]);
    expect(() => assertEmulatorPatched()).not.toThrow();
  });

  it.each(Object.values(EmulatorFix))('refuses a bundle without the %s fix and says to run npm install', (fix) => {
    // Prepare
    const bundle = installedEmulatorBundle().replaceAll(`PATCH(${fix})`, '');

    // Act
    const check = () => assertEmulatorPatched(bundle);

    // Assess
    expect(check).toThrow(EmulatorNotPatchedError);
    expect(check).toThrow(fix);
    expect(check).toThrow('run `npm install` to apply patches/local-aws-sqs+2.0.2.patch');
  });
});
