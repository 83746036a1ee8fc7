/**
 * A local runtime in a process of its own, for the test that kills it (test/integration/container-runs.test.ts):
 * it runs the container runners on the given services, ingests one transient, and runs until killed.
 * Arguments: DynamoDB endpoint, SQS endpoint, fixtures folder, the container tests' folder, the transient's name.
 */
import { join } from 'node:path';
import { ingestTransients } from '../../lib/engine/ingest';
import { LocalRuntime } from '../../lib/local/runtime';
import { CONTAINER_TEST_DIR, containerRunners } from './container-runners';
import { sampleTransient } from './factories';

const [dynamodb = '', sqs = '', fixturesDir = '', dir = '', transient = ''] = process.argv.slice(2);
const runtime = await LocalRuntime.start({
  runners: containerRunners,
  tickMs: 3_600_000,
  prefix: `k${process.pid.toString(36)}${Date.now().toString(36)}`,
  endpoints: { dynamodb, sqs },
  fixturesDir,
  runnersModule: 'test/helpers/container-runners.ts#containerRunners',
  environment: { [CONTAINER_TEST_DIR]: dir },
  // In the test's folder: a runtime killed by SIGKILL removes nothing of its own.
  artifactDir: join(dir, 'artifacts'),
  onContainerOutput: (line) => console.log(line),
});
runtime.run();
await ingestTransients(runtime.engine, [sampleTransient(transient)], { announce: true });
