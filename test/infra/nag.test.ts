/**
 * cdk-nag's AwsSolutions pack on the stack: no finding left unacknowledged, every acknowledgement with its
 * reason, and the app itself refusing to synthesize when a finding appears.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { addTaskRunners } from '../../lib/stacks/task-runners-app';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function';
import { WEB_API_ENTRY } from '../../lib/constructs/web-console';
import { runner, systemRunner } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';
import { synthStack } from '../helpers/stack';

const findings = (scope: IConstruct) =>
  new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((found) => found.constructPath).join(', ')}`);

describe('cdk-nag: AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack of the registry', () => {
    expect(findings(synthStack(registry).stack)).toEqual([]);
  });

  it('finds nothing unacknowledged with an alarm topic, a system runner and secrets', () => {
    const tasks = [...loadCatalog('fixtures').tasks.keys(), 'Summary'];
    const withEverything = [
      ...registry,
      runner('Summary', { 'Cutout download': 'processed', Summary: 'not processed' }, { settings: { secretNames: ['summary-service'] } }),
      systemRunner('TNS ingest', { settings: { secretNames: ['tns-bot'] } }),
    ];
    const { stack } = synthStack(withEverything, { fixturesDir: fixturesWithTasks(tasks), alarmEmail: 'ops@example.org' });
    expect(findings(stack)).toEqual([]);
  });

  it('finds nothing unacknowledged with the web view, and gives each of its acknowledgements a reason', () => {
    // Prepare: the page's files as the stack gets them; the template does not depend on the API's code
    const siteDir = mkdtempSync(join(tmpdir(), 'blast-site-'));
    writeFileSync(join(siteDir, 'index.html'), '<!doctype html><title>Blast</title>');
    const apiEntry = existsSync(join(PROJECT_ROOT, WEB_API_ENTRY)) ? WEB_API_ENTRY : 'functions/dispatcher.ts';

    // Act
    const { stack } = synthStack(registry, { webView: { siteDir, apiEntry } });
    const web = stack.webConsole?.node.findAll() ?? [];

    // Assess
    expect(findings(stack)).toEqual([]);
    const acknowledged = web.flatMap((construct) => construct.node.metadata).filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledged.flatMap((entry) => Object.entries(entry.data as Record<string, string>))) expect(reason.length, rule).toBeGreaterThan(40);
  });

  it('gives every acknowledged finding its reason', () => {
    const { stack } = synthStack(registry);
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledgements) {
      expect(rule).toMatch(/AwsSolutions-/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });

  it('reports a finding when there is one, so the checks above can fail', () => {
    const stack = new Stack(new App(), 'Plain');
    new Queue(stack, 'Unencrypted');
    expect(findings(stack).map((finding) => finding.split(' ')[0])).toEqual(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
  });

  it('stops the app\'s synth on an unacknowledged finding', () => {
    // Prepare: the app as bin/app.ts builds it, with one queue that breaks the rules
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-out-')), builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = addTaskRunners(app, registry);
    new Queue(stack, 'Unencrypted');

    // Act + Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
