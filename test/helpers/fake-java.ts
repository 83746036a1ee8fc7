/** A stand-in for a Java installation: a folder with a `bin/java` that answers `-version` as the given Java would. */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Returns the folder (a JAVA_HOME) whose `bin/java` prints `versionLine` on stderr, as `java -version` does. */
export const fakeJavaHome = (versionLine: string): string => {
  const home = mkdtempSync(join(tmpdir(), 'java-home-'));
  mkdirSync(join(home, 'bin'));
  writeFileSync(join(home, 'bin', 'java'), `#!/bin/sh\necho '${versionLine}' >&2\necho 'Runtime Environment' >&2\n`);
  chmodSync(join(home, 'bin', 'java'), 0o755);
  return home;
};
