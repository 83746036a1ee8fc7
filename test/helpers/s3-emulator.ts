/**
 * An S3 emulator for the tests (test/helpers/s3-emulator-process.ts): s3rver in its own process on a free
 * loopback port, objects stored as files under a temporary directory. Lifecycle rules, encryption, bucket
 * policies and IAM are AWS's business and not emulated; the bundled-workflow test checks IAM itself.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localAwsEnv } from '../../lib/local/services';

export class S3Emulator {
  private constructor(
    private readonly child: ChildProcess,
    private readonly directory: string,
    readonly endpoint: string,
  ) {}

  /** Starts it, accepting requests signed with the local runtime's key or any of `accessKeyIds`. */
  static async start(accessKeyIds: readonly string[] = []): Promise<S3Emulator> {
    const directory = mkdtempSync(join(tmpdir(), 's3-emulator-'));
    const keys = [localAwsEnv.AWS_ACCESS_KEY_ID, ...accessKeyIds];
    const child = fork(new URL('./s3-emulator-process.ts', import.meta.url), [directory, JSON.stringify(keys)], {
      execArgv: ['--openssl-legacy-provider', '--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const port = await new Promise<number | undefined>((resolve) => {
      child.once('message', (message: { port?: number }) => resolve(message.port));
      child.once('exit', () => resolve(undefined));
    });
    if (port === undefined) {
      rmSync(directory, { recursive: true, force: true });
      throw new Error(`the S3 emulator did not start:\n${stderr}`);
    }
    return new S3Emulator(child, directory, `http://127.0.0.1:${port}`);
  }

  /**
   * Makes an object look last modified at `when`: s3rver reports a stored file's modification time, so a
   * test can have old scratch data without waiting a day.
   */
  backdate(bucket: string, key: string, when: Date): void {
    utimesSync(join(this.directory, bucket, `${key}._S3rver_object`), when, when);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGTERM');
      });
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}
