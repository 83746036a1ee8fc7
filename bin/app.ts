/** The CDK app (cdk.json): the task runners' stack, derived from the registry. */
import { App } from 'aws-cdk-lib';
import { registry } from '../functions/registry';
import { addTaskRunners } from '../lib/stacks/task-runners-app';

const app = new App();
addTaskRunners(app, registry);
app.synth();
