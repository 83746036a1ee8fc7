/** The CDK app (cdk.json): the task runners' stack, derived from the registry. */
import { App } from 'aws-cdk-lib';
import { registry } from '../runners/registry';
import { problemLines } from '../lib/domain/errors';
import { addTaskRunners } from '../lib/stacks/task-runners-app';

try {
  // Synthesized here and only here: an app left half-built by an error must not synthesize on exit.
  const app = new App({ autoSynth: false });
  addTaskRunners(app, registry);
  app.synth();
} catch (thrown) {
  // A registry or fixture error is the user's to fix, not a crash: the lines `npm run validate` prints, no stack.
  const lines = problemLines(thrown);
  if (!lines) throw thrown;
  lines.forEach((line) => console.error(`✗ ${line}`));
  process.exitCode = 1;
}
