/**
 * The dead-letter handler's record of a message that used up its deliveries, on DynamoDB Local: what it
 * writes depends on whose delivery holds the task now, handling the same dead letter twice changes nothing,
 * and a task its message finished has its successors recorded as ready.
 */
import { describe, expect, it } from 'vitest';
import { bucketOfRegisters } from '../../lib/domain/counts';
import type { Register } from '../../lib/domain/workflow';
import { StillRunningError, recordDeadLetter } from '../../lib/engine/dead-letters';
import { ingestTransients } from '../../lib/engine/ingest';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const runners = [runner('A', {}), runner('B', { A: 'processed' })];
const fixtures = fixturesWithTasks(['A', 'B']);
const messageId = 'deadbeef-0000-4000-8000-000000000000';
const delivery = (name: string, body: Record<string, unknown> = {}) => ({
  messageId,
  receiptHandle: 'h',
  body: JSON.stringify({ transient: name, task: 'A', readyAt: 1, ...body }),
  receiveCount: 1,
});

/** An engine whose transient `name` has register A as given; like the deployed handler, it has no queue to send to. */
const withRegisterA = async (name: string, register: Register) => {
  const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues([]).queues });
  await ingestTransients(engine, [sampleTransient(name)]);
  const before = await engine.store.transients.get(name);
  if (!before) throw new Error(`${name} was not ingested`);
  const registers = { ...before.registers, A: register };
  await engine.store.transients.replace(name, before, { A: register }, bucketOfRegisters(engine.workflow, registers));
  return engine;
};

describe('Integration: recordDeadLetter', () => {
  it.each([
    ['its own run that never returned', { status: 'processing', claim: 'deadbeef.x1', leaseUntil: 1, attempt: 3 }, 'time limit exceeded'],
    ['its own retries, all failed', { status: 'not processed', claim: 'deadbeef.x3', attempt: 3, lastError: 'Error: boom' }, 'failed'],
  ])('records the error status over %s', async (_case, register, status) => {
    // Prepare
    const engine = await withRegisterA('sn', register);

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess
    expect(reason).toMatch(new RegExp(`^recorded "${status}"`));
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status, deadLettered: true });
  });

  it('sends the message back while its own last run may still be going, whatever the clocks', async () => {
    // Its lease (the run's timeout plus the tolerated clock skew) has not run out by this host's clock.
    const live: Register = { status: 'processing', claim: 'deadbeef.x1', leaseUntil: Date.now() + 1_000, attempt: 3 };
    const engine = await withRegisterA('sn', live);

    await expect(recordDeadLetter(engine, delivery('sn'))).rejects.toThrow(StillRunningError);

    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(live);
    expect((await engine.store.deadLetters.page('A', 100)).items).toEqual([]);
  });

  it.each([
    ["another message's live run", { status: 'processing', claim: 'cafe0000.y1', leaseUntil: Date.now() + 60_000 }],
    ["another message's dead run (its own message comes back for it)", { status: 'processing', claim: 'cafe0000.y1', leaseUntil: 1 }],
    ["another message's retry that is waiting", { status: 'not processed', claim: 'cafe0000.y1', lastError: 'Error: boom' }],
  ])('leaves the task to %s', async (_case, register) => {
    const engine = await withRegisterA('sn', register);

    const reason = await recordDeadLetter(engine, delivery('sn'));

    expect(reason).toMatch(/^nothing recorded: another message's delivery holds the task/);
    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(register);
    expect((await engine.store.deadLetters.page('A', 100)).items).toEqual([expect.objectContaining({ name: 'sn', reason })]);
  });

  it('says a task another message finished was already finished', async () => {
    const finished: Register = { status: 'failed', claim: 'cafe0000.y1', attempt: 1, lastModified: 5 };
    const engine = await withRegisterA('sn', finished);

    const reason = await recordDeadLetter(engine, delivery('sn'));

    expect(reason).toBe('nothing recorded: the task was already "failed"');
    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(finished);
  });

  it('records as ready the successors of a task its own last delivery finished before dying (finding 2)', async () => {
    // Prepare: the final delivery settled "processed", then died before sending B
    const engine = await withRegisterA('sn', { status: 'processed', claim: 'deadbeef.x3', attempt: 3, lastModified: 5 });

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess: B waits as a ready marker for the dispatcher
    expect(reason).toBe('nothing recorded: the task was already "processed"');
    const { items: markers } = await engine.store.readiness.page('B', 0, 10);
    expect(markers).toEqual([expect.objectContaining({ name: 'sn', task: 'B', generation: 0 })]);
  });

  it('leaves a task reset after the message was sent to the message of the reset, whatever the clocks say', async () => {
    // Prepare: the message is of generation 0; a retrigger reset the task to generation 1 (its clock far behind)
    const reset: Register = { status: 'not processed', lastModified: 0, generation: 1 };
    const engine = await withRegisterA('sn', reset);

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn', { readyAt: Date.now() }));

    // Assess
    expect(reason).toBe('nothing recorded: the task was reset after this message was sent');
    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(reset);
  });

  it('records the failed status over a task that no delivery could claim since it became ready', async () => {
    // Prepare: ready at generation 0, when the message was sent; every delivery failed before its claim
    const engine = await withRegisterA('sn', { status: 'not processed', lastModified: 1 });

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess
    expect(reason).toMatch(/^recorded "failed"/);
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'failed', deadLettered: true });
  });

  it("acts on the queue's runner only: a message naming another task records nothing", async () => {
    const engine = await withRegisterA('sn', { status: 'processing', claim: 'deadbeef.x1', leaseUntil: 1, attempt: 3 });

    const reason = await recordDeadLetter(engine, delivery('sn'), 'B');

    expect(reason).toBe('nothing recorded: the message names task "A" but came from the dead-letter queue of "B"');
    expect((await engine.store.transients.get('sn'))?.registers.A).toMatchObject({ status: 'processing' });
    // Filed by its message id, so that B's own dead letter of "sn" (if any) is neither replaced nor redriven by it.
    expect((await engine.store.deadLetters.page('B', 100)).items).toEqual([expect.objectContaining({ name: 'message deadbeef-0000-4000-8000-000000000000', reason })]);
  });

  it('keeps a long body cut short, and files an unreadable one under its message id', async () => {
    const engine = await withRegisterA('sn', { status: 'not processed' });
    const long = { ...delivery('sn'), body: `{"transient": "sn", "padding": "${'x'.repeat(10_000)}"}` };

    const reason = await recordDeadLetter(engine, long, 'A');

    const [record] = (await engine.store.deadLetters.page('A', 100)).items;
    expect(reason).toMatch(/^message body is 10\d\d\d characters long/);
    expect(record).toMatchObject({ name: `message ${messageId}` });
    expect(record?.body.length).toBeLessThan(2_200);
  });

  it('handles the same dead letter twice as once', async () => {
    const engine = await withRegisterA('sn', { status: 'processing', claim: 'deadbeef.x3', leaseUntil: 1, attempt: 3 });

    const first = await recordDeadLetter(engine, delivery('sn'));
    const registerAfterFirst = (await engine.store.transients.get('sn'))?.registers.A;
    const second = await recordDeadLetter(engine, delivery('sn'));

    expect(second).toBe(first);
    expect((await engine.store.transients.get('sn'))?.registers.A).toEqual(registerAfterFirst);
  });
});
