/**
 * The dead-letter handler's record of a message that used up its deliveries, on DynamoDB Local: what it
 * writes depends on who holds the task now, and handling the same dead letter twice changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { recordDeadLetter } from '../../lib/engine/dead-letters';
import { ingestTransients } from '../../lib/engine/ingest';
import type { Register } from '../../lib/domain/workflow';
import { engineOnLocalTable, recordingQueues } from '../helpers/engine';
import { runner, sampleTransient } from '../helpers/factories';
import { fixturesWithTasks } from '../helpers/local-stack';

const runners = [runner('A', {}), runner('B', { A: 'processed' })];
const fixtures = fixturesWithTasks(['A', 'B']);
const messageId = 'deadbeef-0000-4000-8000-000000000000';
const delivery = (name: string) => ({ messageId, receiptHandle: 'h', body: JSON.stringify({ transient: name, task: 'A', readyAt: 1 }), receiveCount: 1 });

/** An engine whose transient `name` has register A as given. */
const withRegisterA = async (name: string, register: Register) => {
  const engine = await engineOnLocalTable(runners, fixtures, { queues: recordingQueues(['A', 'B']).queues });
  await ingestTransients(engine, [sampleTransient(name)]);
  const before = await engine.store.get(name);
  await engine.store.replace(name, { version: before?.version ?? 0, processingStatus: 'processing' }, { A: register }, 'processing');
  return engine;
};

describe('Integration: recordDeadLetter', () => {
  it.each([
    ['its own run that never returned', { status: 'processing', claim: 'deadbeef.3', leaseUntil: Date.now() + 60_000, attempt: 3 }, 'time limit exceeded'],
    ["another message's run whose lease ran out", { status: 'processing', claim: 'cafe0000.1', leaseUntil: 1, attempt: 1 }, 'time limit exceeded'],
    ['its own retries, all failed', { status: 'not processed', claim: 'deadbeef.3', attempt: 3, lastError: 'Error: boom' }, 'failed'],
  ])('records the error status over %s', async (_case, register, status) => {
    // Prepare
    const engine = await withRegisterA('sn', register);

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess
    expect(reason).toMatch(new RegExp(`^recorded "${status}"`));
    expect((await engine.store.get('sn'))?.registers.A).toMatchObject({ status, deadLettered: true });
  });

  it.each([
    ["another message's live run", { status: 'processing', claim: 'cafe0000.1', leaseUntil: Date.now() + 60_000 }],
    ["another message's retry that is waiting", { status: 'not processed', claim: 'cafe0000.1', lastError: 'Error: boom' }],
  ])('leaves the task to %s', async (_case, register) => {
    const engine = await withRegisterA('sn', register);

    const reason = await recordDeadLetter(engine, delivery('sn'));

    expect(reason).toMatch(/^nothing recorded: another message's delivery holds the task/);
    expect((await engine.store.get('sn'))?.registers.A).toEqual(register);
    expect((await engine.store.deadLetters('A')).records).toEqual([expect.objectContaining({ name: 'sn', reason })]);
  });

  it("says a task another message finished was already finished", async () => {
    const finished: Register = { status: 'processed', claim: 'cafe0000.1', attempt: 1, lastModified: 5 };
    const engine = await withRegisterA('sn', finished);

    const reason = await recordDeadLetter(engine, delivery('sn'));

    expect(reason).toBe('nothing recorded: the task was already "processed"');
    expect((await engine.store.get('sn'))?.registers.A).toEqual(finished);
  });

  it('leaves a task reset after the message was sent to the message of the reset', async () => {
    // Prepare: the message was sent at 1; a retrigger reset the task at 2
    const reset: Register = { status: 'not processed', lastModified: 2 };
    const engine = await withRegisterA('sn', reset);

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess
    expect(reason).toBe('nothing recorded: the task was reset after this message was sent');
    expect((await engine.store.get('sn'))?.registers.A).toEqual(reset);
  });

  it('records the failed status over a task that no delivery could claim since it became ready', async () => {
    // Prepare: ready at 1, when the message was sent; every delivery failed before its claim
    const engine = await withRegisterA('sn', { status: 'not processed', lastModified: 1 });

    // Act
    const reason = await recordDeadLetter(engine, delivery('sn'));

    // Assess
    expect(reason).toMatch(/^recorded "failed"/);
    expect((await engine.store.get('sn'))?.registers.A).toMatchObject({ status: 'failed', deadLettered: true });
  });

  it('handles the same dead letter twice as once', async () => {
    const engine = await withRegisterA('sn', { status: 'processing', claim: 'deadbeef.3', leaseUntil: 1, attempt: 3 });

    const first = await recordDeadLetter(engine, delivery('sn'));
    const registerAfterFirst = (await engine.store.get('sn'))?.registers.A;
    const second = await recordDeadLetter(engine, delivery('sn'));

    expect(second).toBe(first);
    expect((await engine.store.get('sn'))?.registers.A).toEqual(registerAfterFirst);
  });
});
