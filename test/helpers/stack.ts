/** Synthesizing the stack for template tests: no bundling, one template per registry, logical ids by construct. */
import { App, type CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AnyRunner } from '../../lib/runner';
import { TaskRunnersStack, type TaskRunnersStackProps } from '../../lib/stacks/task-runners-stack';
import { type CfnTemplate, cfnTemplateSchema } from './template';

export const TEST_STACK = 'BlastTest';

export interface Synthesized {
  readonly stack: TaskRunnersStack;
  readonly template: Template;
  readonly json: CfnTemplate;
}

/** The stack for `runners`, synthesized without bundling any asset (template tests need none). */
export const synthStack = (runners: readonly AnyRunner[], props: Partial<TaskRunnersStackProps> = {}): Synthesized => {
  // CDK's built-in CloudFormation validation runs once, on the app's synth (test/infra/bundled-workflow.test.ts).
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TaskRunnersStack(app, TEST_STACK, { runners, ...props });
  const template = Template.fromStack(stack);
  return { stack, template, json: cfnTemplateSchema.parse(template.toJSON()) };
};

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export const logicalId = (construct: IConstruct): string => {
  const element = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!element) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(element as CfnElement);
};

/** `<Id.Arn>`: a construct's ARN as the placeholder resolver writes it. */
export const arnOf = (construct: IConstruct) => `<${logicalId(construct)}.Arn>`;
export const refOf = (construct: IConstruct) => `<Ref:${logicalId(construct)}>`;

/** The logical ids of every CloudFormation resource in a construct's subtree. */
export const resourcesUnder = (construct: IConstruct): string[] =>
  construct.node
    .findAll()
    .filter(CfnResource.isCfnResource)
    .map((resource) => Stack.of(resource).getLogicalId(resource));

/** How many resources of each type, for comparing with what a construct should hold. */
export const countTypes = (json: CfnTemplate, ids: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const type = json.Resources[id]?.Type ?? 'missing';
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
};
