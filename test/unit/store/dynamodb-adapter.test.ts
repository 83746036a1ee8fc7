import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../../lib/bootstrap/create-engine';
import { toTaskSpec } from '../../../lib/domain/validation';
import type { TransientRecord } from '../../../lib/engine/store';
import { decodeTransient, dynamoTaskStore, isCounterWrite } from '../../../lib/store/dynamodb';
import { runner, sampleTransient } from '../../helpers/factories';

const dynamo = mockClient(DynamoDBDocumentClient);
const store = dynamoTaskStore(documentClient(new DynamoDBClient({ region: 'us-east-1' })), 'tasks');

/** The expression with its placeholders put back, so a test reads the rule itself. */
const readable = (input: { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }) =>
  (input.ConditionExpression ?? '')
    .replace(/#n\d+/g, (placeholder) => input.ExpressionAttributeNames?.[placeholder] ?? placeholder)
    .replace(/:v\d+/g, (placeholder) => JSON.stringify(input.ExpressionAttributeValues?.[placeholder]));

/** The input of the nth UpdateItem sent. */
const update = (index = 0) => {
  const input = dynamo.commandCalls(UpdateCommand)[index]?.args[0].input;
  if (!input) throw new Error(`no UpdateItem number ${index + 1} was sent`);
  return input;
};

const item = (registers: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  pk: 'T#sn',
  sk: 'STATE',
  ra: 1,
  dec: 2,
  pts: '2020-01-01T00:00:00.000Z#sn',
  ver: 9,
  cb: 'p',
  r: registers,
  ...extra,
});
const refusedBy = (registers: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(item(registers, extra)) });

const record = (overrides: Partial<TransientRecord> = {}): TransientRecord => ({
  transient: sampleTransient('sn'),
  registers: {},
  version: 7,
  processingStatus: 'processing',
  bucket: 'processing',
  createdAt: 0,
  ...overrides,
});

describe('Function: dynamoTaskStore (its conditions, on a mocked client)', () => {
  beforeEach(() => dynamo.reset());

  it('claims with one conditional write that re-checks every prerequisite, for a message of the register generation', async () => {
    // Prepare
    // The old image: the register the claim replaces (a run whose lease ran out).
    dynamo.on(UpdateCommand).resolves({ Attributes: item({ 'Host information': { s: 'processing', c: 'c0.old', l: 500, g: 2 } }) });
    const spec = toTaskSpec(runner('Host information', { 'Host match': 'processed', 'Host MWEBV': 'not processed' }));

    // Act
    const claimed = await store.transients.claim('sn', spec, { status: 'processing', claim: 'c1.tok', leaseUntil: 9_000, generation: 2 }, 1_000);

    // Assess
    const input = update();
    expect(readable(input)).toBe(
      '(attribute_exists(pk)) AND ' +
        '((attribute_not_exists(r.Host information)) OR ' +
        // A waiting retry: only its own message (c1) before its time.
        '((r.Host information.s = "not processed") AND ((attribute_not_exists(r.Host information.ra)) OR (r.Host information.ra <= 1000) OR (begins_with(r.Host information.c, "c1.")))) OR ' +
        '((r.Host information.s = "processing") AND (r.Host information.l < 1000))) AND ' +
        // A message from before the last reset cannot claim.
        '(r.Host information.g = 2) AND ' +
        '(r.Host match.s = "processed") AND ' +
        '((attribute_not_exists(r.Host MWEBV)) OR (r.Host MWEBV.s = "not processed"))',
    );
    // The old image comes back: the replaced register, and the new record is the old one with the claim written.
    expect(input).toMatchObject({ Key: { pk: 'T#sn', sk: 'STATE' }, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
    expect(claimed).toMatchObject({
      ok: true,
      previous: { status: 'processing', claim: 'c0.old', leaseUntil: 500 },
      record: { version: 10, registers: { 'Host information': { status: 'processing', claim: 'c1.tok', leaseUntil: 9_000, generation: 2 } } },
    });
  });

  it('lets a generation-0 message claim a register that was never reset', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: item({}) });

    await store.transients.claim('sn', toTaskSpec(runner('A', {})), { status: 'processing', claim: 'c1.tok' }, 1);

    expect(readable(update())).toContain('((attribute_not_exists(r.A.g)) OR (r.A.g = 0))');
  });

  it('records a result only while the register is still "processing" under the same token', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: item({}) });

    await store.transients.settle('sn', 'Host match', 'abcd.tok', { status: 'processed' });

    expect(readable(update())).toBe('(r.Host match.c = "abcd.tok") AND (r.Host match.s = "processing")');
  });

  it("writes a transient's new bucket with a result, only if nothing else wrote since the claim", async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: item({}, { cb: 'c', ver: 8 }) });

    const result = await store.transients.settle('sn', 'Host match', 'abcd.tok', { status: 'processed' }, { from: 'processing', to: 'completed', version: 7 });

    const input = update();
    expect(readable(input)).toBe('((r.Host match.c = "abcd.tok") AND (r.Host match.s = "processing")) AND (ver = 7) AND (cb = "p")');
    expect(Object.values(input.ExpressionAttributeNames ?? {})).toEqual(expect.arrayContaining(['cb', 'pst', 'dv']));
    expect(Object.values(input.ExpressionAttributeValues ?? {})).toEqual(expect.arrayContaining(['c', 'completed#4', 8]));
    expect(result).toMatchObject({ ok: true, bucketWritten: true, record: { processingStatus: 'completed', bucket: 'completed' } });
  });

  describe('a settle with its bucket refused', () => {
    const settled = { status: 'processed', lastModified: 50 };
    const move = { from: 'processing', to: 'completed', version: 7 } as const;

    it('settles alone when another register changed since, leaving the bucket to the new image', async () => {
      dynamo.on(UpdateCommand).rejectsOnce(refusedBy({ A: { s: 'processing', c: 'x.tok', l: 5 } })).resolves({ Attributes: item({}, { ver: 10 }) });

      const result = await store.transients.settle('sn', 'A', 'x.tok', settled, move);

      expect(readable(update(1))).toBe('(r.A.c = "x.tok") AND (r.A.s = "processing")');
      expect(Object.values(update(1).ExpressionAttributeNames ?? {})).not.toContain('cb');
      expect(result).toMatchObject({ ok: true, bucketWritten: false });
    });

    it('is settled, bucket and all, when its own earlier landing refused it (a reply lost, the call sent again)', async () => {
      dynamo.on(UpdateCommand).rejects(refusedBy({ A: { s: 'processed', t: 50, c: 'x.tok' } }));

      const result = await store.transients.settle('sn', 'A', 'x.tok', settled, move);

      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(result).toMatchObject({ ok: true, bucketWritten: true });
    });

    it.each([
      ['another run took the claim over', { s: 'processing', c: 'y.tok', l: 5 }],
      ['a reset dropped the claim', { s: 'not processed', t: 60, g: 1 }],
      // The finding of issue 11: an identical second invocation must not undo the first one's result.
      ['another invocation with this very token recorded a different result', { s: 'failed', t: 40, c: 'x.tok' }],
    ])('is refused when %s', async (_case, register) => {
      dynamo.on(UpdateCommand).rejects(refusedBy({ A: register }));

      const result = await store.transients.settle('sn', 'A', 'x.tok', settled, move);

      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(result).toMatchObject({ ok: false });
    });
  });

  it('returns the item that refused a claim, decoded', async () => {
    dynamo.on(UpdateCommand).rejects(refusedBy({ A: { s: 'processing', c: 'x.tok', l: 5 } }, { ver: 4 }));

    const result = await store.transients.claim('sn', toTaskSpec(runner('A', {})), { status: 'processing' }, 1);

    expect(result).toEqual({
      ok: false,
      current: expect.objectContaining({ version: 4, bucket: 'processing', registers: { A: { status: 'processing', claim: 'x.tok', leaseUntil: 5 } } }),
    });
  });

  it('holds a claim refused by its own earlier landing (a reply lost, the call sent again), and no other', async () => {
    dynamo.on(UpdateCommand).rejects(refusedBy({ A: { s: 'processing', c: 'x.tok', l: 5 } }, { ver: 4 }));
    const spec = toTaskSpec(runner('A', {}));

    const own = await store.transients.claim('sn', spec, { status: 'processing', claim: 'x.tok' }, 1);
    const sameMessageOtherInvocation = await store.transients.claim('sn', spec, { status: 'processing', claim: 'x.other' }, 1);

    expect(own).toEqual({ ok: true, record: expect.objectContaining({ version: 4 }) });
    expect(sameMessageOtherInvocation).toMatchObject({ ok: false });
  });

  it('lets other errors (throttling, outages) through, so the delivery is retried', async () => {
    dynamo.on(UpdateCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(store.transients.claim('sn', toTaskSpec(runner('A', {})), { status: 'processing' }, 1)).rejects.toThrow('Rate exceeded');
  });

  it('replaces registers and data only if neither the version nor the bucket changed since the read', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: item({}) });

    await store.transients.replace('sn', record({ bucket: 'completed' }), { 'Host information': { status: 'not processed', lastModified: 5, generation: 1 } }, 'processing', {
      transient: { name: 'sn', raDeg: 1, decDeg: 2, publicTimestamp: '2020-01-01T00:00:00.000Z' },
    });

    const input = update();
    expect(readable(input)).toBe('(ver = 7) AND (cb = "c")');
    // A redshift the new data lacks is removed, not left behind.
    expect(input.UpdateExpression).toMatch(/ REMOVE #n\d+(, #n\d+)* ADD /);
    expect(Object.values(input.ExpressionAttributeNames ?? {})).toEqual(expect.arrayContaining(['ra', 'dec', 'pts', 'z', 'cls', 'cb', 'pst']));
  });

  it('knows a replace refused by its own earlier landing (a reply lost, the call sent again) by its writer mark', async () => {
    dynamo.on(UpdateCommand).rejectsOnce(refusedBy({}, { ver: 8, dw: 'mine' })).rejectsOnce(refusedBy({}, { ver: 8, dw: 'theirs' }));

    const own = await store.transients.replace('sn', record(), { A: { status: 'not processed' } }, 'waiting', { writer: 'mine' });
    const other = await store.transients.replace('sn', record(), { A: { status: 'not processed' } }, 'waiting', { writer: 'mine' });

    expect(Object.values(update().ExpressionAttributeNames ?? {})).toContain('dw');
    expect(own).toMatchObject({ ok: true, record: { version: 8 } });
    expect(other).toMatchObject({ ok: false });
  });

  it('records what a replace makes ready in the same transaction, as ready markers', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    const marker = { task: 'B', shard: 0, priority: '2020-01-01T00:00:00.000Z#sn', name: 'sn', readyAt: 5, generation: 1, id: 'abc' };

    const result = await store.transients.replace('sn', record(), { A: { status: 'not processed', generation: 1 } }, 'waiting', { markers: [marker] });

    const [call] = dynamo.commandCalls(TransactWriteCommand);
    const items = call?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]?.Update).toMatchObject({ Key: { pk: 'T#sn', sk: 'STATE' }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
    expect(items[1]?.Put?.Item).toEqual({ pk: 'READY#B#0', sk: '2020-01-01T00:00:00.000Z#sn#abc', name: 'sn', at: 5, g: 1 });
    expect(result).toMatchObject({ ok: true, record: { version: 8, bucket: 'waiting', registers: { A: { status: 'not processed', generation: 1 } } } });
  });

  it.each([
    ['a refused condition, with the image that refused it', { Code: 'ConditionalCheckFailed', Item: marshall(item({}, { ver: 12 })) }, { ok: false, current: expect.objectContaining({ version: 12 }) }],
    ['a conflicting transaction, reading the item again', { Code: 'TransactionConflict' }, { ok: false, current: expect.objectContaining({ version: 9 }) }],
  ])('reports a transaction cancelled by %s as a refusal', async (_case, reason, expected) => {
    dynamo.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [reason, { Code: 'None' }] }));
    dynamo.on(GetCommand).resolves({ Item: item({}) });
    const marker = { task: 'B', shard: 0, priority: 'p', name: 'sn', readyAt: 5, generation: 0, id: 'abc' };

    const result = await store.transients.replace('sn', record(), { A: { status: 'not processed' } }, 'waiting', { markers: [marker] });

    expect(result).toEqual(expected);
  });

  it('creates the entries DynamoDB accepts and rejects alone, with its reason, one it refuses as it is', async () => {
    // Prepare: the two-entry transaction is refused for a validation error; then each entry goes alone
    const cancel = (reasons: { Code: string; Message?: string }[]) => new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: reasons });
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancel([{ Code: 'None' }, { Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }]))
      .resolvesOnce({})
      .rejectsOnce(cancel([{ Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }]));
    const entry = (name: string) => ({ transient: sampleTransient(name), registers: {}, bucket: 'waiting' as const, markers: [] });

    // Act
    const result = await store.transients.create([entry('good'), entry('huge')], 1);

    // Assess
    expect(result).toEqual({ created: ['good'], existing: [], rejected: [{ name: 'huge', reason: 'Item size has exceeded the maximum allowed size' }] });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('moves the bucket only from the bucket it read, and knows its own earlier landing by its writer mark', async () => {
    dynamo.on(UpdateCommand).rejectsOnce(refusedBy({}, { cb: 'c', dv: 9, dw: 'me' })).rejectsOnce(refusedBy({}, { cb: 'c', dv: 9, dw: 'someone' }));
    const move = { from: 'processing', to: 'completed', version: 9 } as const;

    const mine = await store.transients.setBucket('sn', move, 'me');
    const theirs = await store.transients.setBucket('sn', move, 'me');

    expect(readable(update())).toBe('(attribute_exists(pk)) AND (cb = "p") AND ((attribute_not_exists(dv)) OR (dv < 9))');
    expect([mine, theirs]).toEqual([true, false]);
  });

  it('moves counts with one atomic ADD on a counter item, which also counts its version', async () => {
    dynamo.on(UpdateCommand).resolves({});

    await store.counters.add(11, { waiting: -1, processing: 1, blocked: 0 });

    const input = update();
    expect(input.Key).toEqual({ pk: 'COUNTS#3', sk: 'COUNTS' });
    expect(input.UpdateExpression).toBe('ADD #n0 :v0, #n1 :v1, #n2 :v2');
    expect(input.ExpressionAttributeNames).toEqual({ '#n0': 'waiting', '#n1': 'processing', '#n2': 'cv' });
    expect(input.ExpressionAttributeValues).toEqual({ ':v0': -1, ':v1': 1, ':v2': 1 });
  });

  it('repairs a counter item only if no move changed it since it was read', async () => {
    dynamo.on(UpdateCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'moved', $metadata: {} }));

    const first = await store.counters.repairShard(2, 41, { waiting: 1, processing: 2, blocked: 3, completed: 4 });
    const second = await store.counters.repairShard(2, 41, { waiting: 1, processing: 2, blocked: 3, completed: 4 });

    expect(readable(update())).toBe('cv = 41');
    expect([first, second]).toEqual([true, false]);
  });

  it('tells counter writes from the rest, so that only they are never resent', () => {
    expect(isCounterWrite('UpdateItemCommand', { Key: { pk: { S: 'COUNTS#3' }, sk: { S: 'COUNTS' } } })).toBe(true);
    expect(isCounterWrite('UpdateItemCommand', { Key: { pk: { S: 'T#COUNTS#3' }, sk: { S: 'STATE' } } })).toBe(false);
    expect(isCounterWrite('GetItemCommand', { Key: { pk: { S: 'COUNTS#3' }, sk: { S: 'COUNTS' } } })).toBe(false);
  });

  it('reads the bucket a transient is counted in, and its processing status from it', () => {
    expect(decodeTransient(item({}, { cb: 'w' }))).toMatchObject({ bucket: 'waiting', processingStatus: 'processing' });
    expect(decodeTransient(item({}, { cb: 'b' }))).toMatchObject({ bucket: 'blocked', processingStatus: 'blocked' });
  });
});
