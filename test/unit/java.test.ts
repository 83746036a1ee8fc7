/** Which Java runs DynamoDB Local: JAVA_HOME first, then the PATH, and Java 17 or newer (checked on fake `java` executables). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalServiceError, MIN_JAVA_VERSION, findJava, javaMajorVersion } from '../../lib/local/services';
import { fakeJavaHome } from '../helpers/fake-java';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'no-java-'));

const findError = (env: NodeJS.ProcessEnv): string => {
  try {
    findJava(env);
  } catch (error) {
    expect(error).toBeInstanceOf(LocalServiceError);
    return (error as Error).message;
  }
  throw new Error('expected no usable Java');
};

describe('Function: javaMajorVersion', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "11.0.2" 2019-01-15 LTS', 11],
    ['java version "1.8.0_292"', 8],
    ['Picked up _JAVA_OPTIONS: -Xmx1g', undefined],
  ])('reads %s as %s', (line, expected) => {
    expect(javaMajorVersion(line)).toBe(expected);
  });
});

describe('Function: findJava', () => {
  it('takes $JAVA_HOME/bin/java before `java` on the PATH', () => {
    // Prepare: a Java 21 on the PATH, a Java 17 in JAVA_HOME
    const home = fakeJavaHome('openjdk version "17.0.9" 2023-10-17');
    const java = findJava({ JAVA_HOME: home, PATH: join(fakeJavaHome('openjdk version "21.0.1" 2023-10-17'), 'bin') });

    // Assess
    expect(java).toEqual({ command: join(home, 'bin', 'java'), version: 'openjdk version "17.0.9" 2023-10-17', major: 17 });
  });

  it('takes `java` on the PATH when JAVA_HOME is not set', () => {
    expect(findJava({ PATH: join(fakeJavaHome('openjdk version "21.0.1" 2023-10-17'), 'bin') })).toMatchObject({ command: 'java', major: 21 });
  });

  it(`says a Java older than ${MIN_JAVA_VERSION} is too old, and which one it found, instead of DynamoDB Local's LinkageError`, () => {
    // Prepare
    const home = fakeJavaHome('openjdk version "11.0.2" 2019-01-15');

    // Act
    const message = findError({ JAVA_HOME: home, PATH: emptyDir() });

    // Assess
    expect(message).toBe(
      `Java 17 or newer is needed for DynamoDB Local; found "openjdk version \\"11.0.2\\" 2019-01-15" (${join(home, 'bin', 'java')}, from JAVA_HOME). ` +
        'Install one (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME to one',
    );
  });

  it('says so when there is no Java at all, naming a JAVA_HOME without bin/java', () => {
    const home = emptyDir();
    expect(findError({ JAVA_HOME: home, PATH: emptyDir() })).toBe(
      `DynamoDB Local needs Java 17 or newer, and there is none: \`java\` on the PATH; JAVA_HOME is ${home}, which has no bin/java: not found (Debian: apt-get install -y openjdk-17-jre-headless)`,
    );
  });
});
