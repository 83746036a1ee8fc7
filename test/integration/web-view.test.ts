/**
 * The web view in a real browser (headless Chromium, playwright-core) against the local runtime running the
 * project's registry over the 46 sample transients: the grid fills in live and shows every transient with its
 * statuses' colours, a blocked transient's page names its failed prerequisite, a retrigger from the page changes
 * the register, a dead letter is redriven from its page, a retried task shows its two attempts on the timeline with the
 * first's error, and after a runner's version changes the stale filter lists exactly the transients whose result of it
 * is stale. Each page's screenshot goes to docs/images/ (docs/web-view.md).
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { measureFirstLoad, renderFirstLoads } from '../../bench/web-first-load';
import { StatusType, statusTypeOf } from '../../lib/domain/catalog';
import { ProcessingStatus, blockedTasks, generationOf, processingStatus, statusOf } from '../../lib/domain/workflow';
import { ingestTransients } from '../../lib/engine/ingest';
import { readTransientFile } from '../../lib/fixtures/transient-files';
import { StatusMessage, TaskName } from '../../lib/generated/fixtures';
import type { LocalRuntime } from '../../lib/local/runtime';
import { type LocalWebView, startLocalWebView } from '../../lib/local/web-view';
import { registry } from '../../runners/registry';
import { type AnyRunner, type TransientTaskRunner, isTransientRunner } from '../../lib/runner';
import { isFinalType } from '../../lib/domain/catalog';
import { runnersByTask } from '../../lib/engine/engine';
import { staleTransients } from '../../lib/engine/history';
import { createWebApi } from '../../lib/web/api';
import { startWebServer } from '../../lib/local/web-server';
import { type Browser, launchBrowser, rgbOf } from '../../bench/browser';
import { squareColour } from '../../web/src/format';
import { startTestRuntime, waitFor } from '../helpers/local-stack';

const IMAGES = 'docs/images';
/** The browser's own, for the functions that run in the page (the tests' types have no DOM). */
declare const getComputedStyle: (element: unknown) => { readonly backgroundColor: string };
const samples = readTransientFile('fixtures/sample_transients.yaml').transients;

/** Host match's first attempt on this transient throws, as when its catalogue does not answer; SQS delivers it again. */
const RETRIED = '2010H';
const FIRST_ERROR = 'the host catalogue did not answer';
const flakyOnce = (runner: TransientTaskRunner): TransientTaskRunner => {
  let thrown = false;
  return Object.create(runner, {
    process: {
      value: async (...args: Parameters<TransientTaskRunner['process']>) => {
        if (args[0].name === RETRIED && !thrown) {
          thrown = true;
          throw new Error(FIRST_ERROR);
        }
        return runner.process(...args);
      },
    },
  }) as TransientTaskRunner;
};
const runners: readonly AnyRunner[] = registry.map((runner) => (runner.taskName === TaskName.HostMatch && isTransientRunner(runner) ? flakyOnce(runner) : runner));

describe('Browser: the web view on the local runtime', () => {
  let runtime: LocalRuntime;
  let web: LocalWebView;
  let browser: Browser;
  let page: Page;

  const allFinished = async () => {
    const records = await runtime.engine.store.transients.getMany(samples.map((transient) => transient.name));
    return records.length === samples.length && records.every((record) => processingStatus(runtime.engine.workflow, record.registers) !== ProcessingStatus.Processing) && records;
  };
  const squares = (type: string) => page.locator(`[data-testid=grid] .square[data-type="${type}"]`).count();

  beforeAll(async () => {
    mkdirSync(IMAGES, { recursive: true });
    runtime = await startTestRuntime(runners, { tickMs: 500, retryBaseSeconds: 1 });
    web = await startLocalWebView(runtime);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await runtime?.stop();
  });

  it('fills the grid in as the pipeline runs, without a reload', async () => {
    // Prepare: the page is open before the first run finishes.
    await page.goto(web.url);
    await page.locator('[data-testid=grid], .note').first().waitFor();

    // Act
    runtime.run();
    await ingestTransients(runtime.engine, samples, { announce: true });

    // Assess: rows appear and processed cells with them, on the page as loaded.
    await page.locator('[data-testid=grid] tr[data-name]').nth(samples.length - 1).waitFor({ timeout: 30_000 });
    const before = await squares(StatusType.Success);
    await expect.poll(() => squares(StatusType.Success), { timeout: 60_000, interval: 500 }).toBeGreaterThan(before);
    await waitFor('every sample transient to finish', allFinished, 240_000);
  }, 300_000);

  it('shows every sample transient, each task coloured by its status type (blocked ones apart)', async () => {
    // Prepare
    const records = (await allFinished()) || [];
    const { workflow } = runtime.engine;
    await page.goto(web.url);
    await page.locator('[data-testid=grid] tr[data-name]').nth(samples.length - 1).waitFor();
    await expect.poll(() => squares(StatusType.Warning), { timeout: 10_000 }).toBe(0);

    // Act
    const shown = await page.locator('[data-testid=grid] .square').evaluateAll((elements) =>
      elements.map((element) => ({
        name: element.closest('tr')?.getAttribute('data-name'),
        task: element.getAttribute('data-task'),
        type: element.getAttribute('data-type'),
        status: element.getAttribute('data-status'),
        background: getComputedStyle(element).backgroundColor,
      })),
    );

    // Assess
    const expected = records.flatMap((record) => {
      const blocked = blockedTasks(workflow, record.registers);
      return workflow.order.map((task) => {
        const status = statusOf(record.registers, task);
        const type = blocked.has(task) ? 'blocked' : (statusTypeOf(workflow.catalog, status) ?? StatusType.Blank);
        return { name: record.transient.name, task, type, status, background: rgbOf(squareColour(type === 'blocked' ? { type: StatusType.Blank, blocked: true } : { type })) };
      });
    });
    expect(new Set(shown.map((cell) => cell.name))).toEqual(new Set(samples.map((transient) => transient.name)));
    expect(shown).toHaveLength(samples.length * workflow.order.length);
    expect(shown).toEqual(expect.arrayContaining(expected));
    // Finished: every task processed, failed, or blocked behind a failure.
    expect(new Set(shown.map((cell) => cell.type))).toEqual(new Set([StatusType.Success, StatusType.Error, 'blocked']));
    await page.screenshot({ path: `${IMAGES}/web-grid.png` });
  }, 60_000);

  it("names a blocked transient's failed prerequisite on its page", async () => {
    // 2010ai has no catalogued host: Host match errs, and what needs it is blocked.
    await page.goto(`${web.url}#/transients/2010ai`);
    await expect.poll(() => page.getByTestId('blocked-by').textContent(), { timeout: 10_000 }).toContain(`blocked by ${TaskName.HostMatch} (${StatusMessage.NoGHOSTMatch})`);
    await expect.poll(() => page.locator(`[data-testid=graph] g[data-task="${TaskName.HostMatch}"]`).getAttribute('data-type')).toBe(StatusType.Error);
    expect(await page.locator(`[data-testid=graph] g[data-task="${TaskName.HostInformation}"]`).getAttribute('data-type')).toBe('blocked');
    await page.screenshot({ path: `${IMAGES}/web-transient.png`, fullPage: true });
  }, 60_000);

  it('retriggers the transient from its page, after a confirmation, and the register changes', async () => {
    // Prepare
    const before = await runtime.engine.store.transients.get('2010ai');
    await page.goto(`${web.url}#/transients/2010ai`);

    // Act
    await page.getByTestId('retrigger').click();
    await page.getByRole('alertdialog').waitFor();
    await page.screenshot({ path: `${IMAGES}/web-confirm.png` });
    await page.getByTestId('confirm').click();

    // Assess: Host match was reset (a new generation) and ran again.
    await expect.poll(() => page.getByTestId('control-result').textContent(), { timeout: 10_000 }).toContain(`reset ${TaskName.HostMatch} (was ${StatusMessage.NoGHOSTMatch})`);
    const after = await runtime.engine.store.transients.get('2010ai');
    expect(generationOf(after?.registers ?? {}, TaskName.HostMatch)).toBe(generationOf(before?.registers ?? {}, TaskName.HostMatch) + 1);
  }, 60_000);

  it("shows the runners with their queues and dead letters", async () => {
    await page.goto(`${web.url}#/runners`);
    await page.getByTestId('runners').waitFor();
    const tasks = await page.locator('[data-testid=runners] tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-task')));
    expect(tasks).toEqual(expect.arrayContaining(registry.map((runner) => runner.taskName)));
    await page.screenshot({ path: `${IMAGES}/web-runners.png`, fullPage: true });
  }, 60_000);

  it('shows a dead letter and redrives it from its page', async () => {
    // Prepare: a dead letter of Host match for 2010H, as the dead-letter handler files one.
    const task = TaskName.HostMatch;
    await runtime.engine.store.deadLetters.put({
      task,
      name: '2010H',
      body: JSON.stringify({ transient: '2010H', task, readyAt: Date.now() }),
      reason: 'maxReceiveCount reached; last error: Task timed out after 300.00 seconds',
      receiveCount: 5,
      messageId: 'a0b1c2d3-0000-4000-8000-000000000001',
      at: Date.now(),
    });
    await page.goto(`${web.url}#/dead-letters`);
    await page.locator('[data-testid=dead-letters] tr[data-name="2010H"]').waitFor();
    await page.screenshot({ path: `${IMAGES}/web-dead-letters.png`, fullPage: true });

    // Act
    await page.locator('[data-testid=dead-letters] tr[data-name="2010H"] button').click();
    await page.getByTestId('confirm').click();

    // Assess
    await page.getByTestId('no-dead-letters').waitFor({ timeout: 10_000 });
    expect((await runtime.engine.store.deadLetters.page(task, 10)).items).toEqual([]);
  }, 60_000);

  it("shows a retried task's attempts on the timeline: the first with its error and log, the second's saved output", async () => {
    // Prepare
    await page.goto(`${web.url}#/transients/${RETRIED}`);
    const bars = page.locator(`[data-testid=timeline] [data-task="${TaskName.HostMatch}"] .bar`);
    await expect.poll(() => bars.count(), { timeout: 10_000 }).toBe(2);

    // Act: the first attempt, then the second's output
    await bars.first().click();
    const error = await page.getByTestId('attempt-error').textContent();
    const log = await page.getByTestId('attempt-log').textContent();
    await page.screenshot({ path: `${IMAGES}/web-attempts.png`, fullPage: true });
    await bars.nth(1).click();
    await page.getByTestId('read-output').click();
    const output = await page.getByTestId('attempt-output').textContent();

    // Assess
    expect(await bars.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-status')))).toEqual([StatusMessage.NotProcessed, StatusMessage.Processed]);
    expect(error).toBe(`Error: ${FIRST_ERROR}`);
    expect(log).toMatch(/handlers\.log \(request [\w-]+\)$/);
    expect(output).toContain('"separationArcsec"');
  }, 60_000);

  it("lists exactly the transients whose result is stale once a runner's version changes", async () => {
    const NEW_VERSION = 'v2-test';
    const RERUN = ['2010ag', '2011dt'];
    // Prepare: the API of a deployment whose Host match is at a new version, over the same table, serving the same page.
    const bumped = registry.map((runner) =>
      runner.taskName === TaskName.HostMatch ? (Object.create(runner, { version: { value: NEW_VERSION } }) as AnyRunner) : runner,
    );
    const engine = { ...runtime.engine, runners: runnersByTask(bumped) };
    const server = await startWebServer({ api: createWebApi({ engine }), staticDir: web.bundle.outDir });
    // Two transients' Host match already re-ran at the new version (their registers say so, as a backfill's runs leave them).
    for (const name of RERUN) {
      const record = await runtime.engine.store.transients.get(name);
      const register = record?.registers[TaskName.HostMatch];
      if (!record || !register) throw new Error(`${name} has no Host match result`);
      const registers = { ...record.registers, [TaskName.HostMatch]: { ...register, version: NEW_VERSION } };
      expect((await runtime.engine.store.transients.replace(name, record, registers, record.bucket)).ok).toBe(true);
    }
    const records = await runtime.engine.store.transients.getMany(samples.map((transient) => transient.name));
    // Independently of the engine's staleness code: Host match finished with a recorded version other than the new one.
    const stale = (name: string) => {
      const register = records.find((record) => record.transient.name === name)?.registers[TaskName.HostMatch];
      return register?.version !== undefined && register.version !== NEW_VERSION && isFinalType(statusTypeOf(runtime.engine.workflow.catalog, register.status));
    };
    const expected = samples.map((transient) => transient.name).filter(stale);

    try {
      // Act
      await page.goto(server.url);
      await page.getByTestId('filter-task').selectOption(TaskName.HostMatch);
      await page.getByTestId('filter-task-type').selectOption('stale');
      await expect.poll(() => page.locator('[data-testid=grid] td.why-stale').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      const shown = await page.locator('[data-testid=grid] tr[data-name]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name')));
      const why = await page.locator('[data-testid=grid] td.why-stale').first().textContent();
      await page.screenshot({ path: `${IMAGES}/web-stale.png` });
      await page.getByTestId('filter-task').selectOption(TaskName.CutoutDownload);
      await page.getByText('no transients').waitFor({ timeout: 10_000 });
      await page.goto(`${server.url}#/transients/${RETRIED}`);
      await page.getByTestId('stale').waitFor({ timeout: 10_000 });
      const notes = await page.locator('[data-testid=registers] tr[data-task]').evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute('data-task'), row.querySelector('[data-testid=stale-reasons]')?.textContent ?? '']),
      );

      // Assess
      const listed = (await staleTransients(engine, TaskName.HostMatch, { limit: 100 })).entries.map((entry) => entry.record.transient.name);
      expect(expected.length).toBeGreaterThan(samples.length / 2);
      expect(expected).not.toContain(RERUN[0]);
      expect(shown.sort()).toEqual([...expected].sort());
      expect(listed.sort()).toEqual([...expected].sort());
      expect(why).toMatch(/^version changed from \w+ to v2-test$/);
      expect(Object.fromEntries(notes)).toMatchObject({
        [TaskName.CutoutDownload]: '',
        [TaskName.HostMatch]: expect.stringMatching(/^stale: version changed from \w+ to v2-test$/),
        [TaskName.HostInformation]: `stale: upstream ${TaskName.HostMatch} is stale`,
      });
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('Bench: the first load `npm run bench:web` measures', () => {
  it('opens the grid of the sample transients in a fresh browser profile and times it', async () => {
    const load = await measureFirstLoad(samples.length, 1, { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') });
    expect(load).toMatchObject({ transients: samples.length, rowsShown: samples.length, nextPageMs: [] });
    expect(load.firstLoadMs).toHaveLength(1);
    expect(renderFirstLoads([load]).join('\n')).toMatch(/\| 46 \| \d+ ms \| — \| \d+ ms \| 46 \| 1 \|/);
  }, 120_000);
});
