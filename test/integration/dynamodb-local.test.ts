/** DynamoDB Local as the runtime starts it, in a process of its own with the user's environment: on the Java JAVA_HOME names. */
import { execFileSync, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeJavaHome } from '../helpers/fake-java';

/** Starts DynamoDB Local as the runtime does, checks that it answers, stops it; prints what happened. */
const script = `
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localClientConfig, startDynamoDbLocal } from './lib/local/services.ts';
const dynamodb = await startDynamoDbLocal();
const client = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
const { TableNames } = await client.send(new ListTablesCommand({}));
client.destroy();
await dynamodb.stop();
console.log(JSON.stringify({ answered: Array.isArray(TableNames) }));
`;

describe('Function: startDynamoDbLocal', () => {
  it('runs on $JAVA_HOME/bin/java, not on an older `java` first on the PATH', () => {
    // Prepare: this machine's Java as JAVA_HOME; on the PATH, only a Java 11
    const javaHome = dirname(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim())));
    const env = { ...process.env, JAVA_HOME: javaHome, PATH: join(fakeJavaHome('openjdk version "11.0.2" 2019-01-15'), 'bin') };

    // Act
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 120_000 });

    // Assess
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual({ answered: true });
  }, 130_000);
});
