/** The CDK app (cdk.json): the task runners' stack, derived from the registry, with the web view's page built for it. */
import { App } from 'aws-cdk-lib';
import { registry } from '../runners/registry';
import { problemLines } from '../lib/domain/errors';
import { AppContext, addTaskRunners } from '../lib/stacks/task-runners-app';
import { bundleWebApp } from '../lib/web/bundle';

/** Where the app builds the web view's page when `-c webSite=DIR` names no prebuilt one (gitignored). */
const WEB_SITE_BUILD = '.cache/web-site';

try {
  // Synthesized here and only here: an app left half-built by an error must not synthesize on exit.
  const app = new App({ autoSynth: false });
  if (!app.node.tryGetContext(AppContext.webSite)) {
    await bundleWebApp(WEB_SITE_BUILD);
    app.node.setContext(AppContext.webSite, WEB_SITE_BUILD);
  }
  addTaskRunners(app, registry);
  app.synth();
} catch (thrown) {
  // A registry or fixture error is the user's to fix, not a crash: the lines `npm run validate` prints, no stack.
  const lines = problemLines(thrown);
  if (!lines) throw thrown;
  lines.forEach((line) => console.error(`✗ ${line}`));
  process.exitCode = 1;
}
