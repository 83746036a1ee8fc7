import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../lib/bootstrap';
import { toTaskSpec } from '../../lib/domain/validation';
import { taskStore } from '../../lib/store/task-store';
import { runner } from '../helpers/factories';

const dynamo = mockClient(DynamoDBDocumentClient);
const store = taskStore(documentClient(new DynamoDBClient({ region: 'us-east-1' })), 'tasks');

/** The expression with its placeholders put back, so a test reads the rule itself. */
const readable = (input: { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }) =>
  (input.ConditionExpression ?? '')
    .replace(/#n\d+/g, (placeholder) => input.ExpressionAttributeNames?.[placeholder] ?? placeholder)
    .replace(/:v\d+/g, (placeholder) => JSON.stringify(input.ExpressionAttributeValues?.[placeholder]));

/** The input of the first UpdateItem sent. */
const firstUpdate = () => {
  const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
  if (!input) throw new Error('no UpdateItem was sent');
  return input;
};

describe('Function: taskStore', () => {
  beforeEach(() => dynamo.reset());

  it('claims with one conditional write that re-checks every prerequisite', async () => {
    // Prepare
    dynamo.on(UpdateCommand).resolves({ Attributes: { name: 'sn', r: {} } });
    const spec = toTaskSpec(runner('Host information', { 'Host match': 'processed', 'Host MWEBV': 'not processed' }));

    // Act
    await store.claim('sn', spec, { status: 'processing', claim: 'c1.2', leaseUntil: 9_000 }, 1_000);

    // Assess
    const [call] = dynamo.commandCalls(UpdateCommand);
    const input = call?.args[0].input ?? {};
    expect(readable(input)).toBe(
      '(attribute_exists(pk)) AND ' +
        '((attribute_not_exists(r.Host information)) OR ' +
        // A waiting retry: only its own message (c1) before its time.
        '((r.Host information.s = "not processed") AND ((attribute_not_exists(r.Host information.ra)) OR (r.Host information.ra <= 1000) OR (begins_with(r.Host information.c, "c1.")))) OR ' +
        '((r.Host information.s = "processing") AND (r.Host information.l < 1000))) AND ' +
        '(r.Host match.s = "processed") AND ' +
        '((attribute_not_exists(r.Host MWEBV)) OR (r.Host MWEBV.s = "not processed"))',
    );
    expect(input).toMatchObject({ Key: { pk: 'T#sn', sk: 'STATE' }, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });

  it('records a result only while the claim is still held', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { name: 'sn', r: {} } });

    await store.settle('sn', 'Host match', 'abcd.2', { status: 'processed' });

    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input ?? {};
    expect(readable(input)).toBe('r.Host match.c = "abcd.2"');
  });

  it("writes a transient's new processing status with its last result, only if nothing else wrote since", async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { name: 'sn', ps: 'completed', ver: 8, r: {} } });

    const result = await store.settle('sn', 'Host match', 'abcd.2', { status: 'processed' }, { status: 'completed', from: 'processing', version: 7 });

    const input = firstUpdate();
    expect(readable(input)).toBe('(r.Host match.c = "abcd.2") AND (ver = 7) AND (ps = "processing")');
    expect(Object.values(input.ExpressionAttributeNames ?? {})).toEqual(expect.arrayContaining(['ps', 'pst', 'dv']));
    expect(Object.values(input.ExpressionAttributeValues ?? {})).toEqual(expect.arrayContaining(['completed', 8]));
    expect(result).toMatchObject({ ok: true, statusWritten: true });
  });

  describe('a settle with its status refused', () => {
    const refusedBy = (register: Record<string, unknown>) =>
      new ConditionalCheckFailedException({
        message: 'refused',
        $metadata: {},
        Item: marshall({ pk: 'T#sn', sk: 'STATE', name: 'sn', ra: 1, dec: 2, ts: '2020-01-01T00:00:00.000Z', ver: 9, ps: 'processing', r: { A: register } }),
      });
    const settled = { status: 'processed', lastModified: 50 };

    it('settles alone when another register changed since, leaving the status to the new image', async () => {
      dynamo.on(UpdateCommand).rejectsOnce(refusedBy({ s: 'processing', c: 'x.1', l: 5 })).resolves({ Attributes: { name: 'sn', ps: 'processing', ver: 10, r: {} } });

      const result = await store.settle('sn', 'A', 'x.1', settled, { status: 'completed', from: 'processing', version: 7 });

      const retry = dynamo.commandCalls(UpdateCommand)[1]?.args[0].input;
      if (!retry) throw new Error('no second UpdateItem was sent');
      expect(readable(retry)).toBe('r.A.c = "x.1"');
      expect(Object.values(retry.ExpressionAttributeNames ?? {})).not.toContain('ps');
      expect(result).toMatchObject({ ok: true, statusWritten: false });
    });

    it('is settled, status and all, when its own earlier landing refused it (a reply lost, the call sent again)', async () => {
      // Its status write landed too, whatever the image says now (a reset may have landed since).
      dynamo.on(UpdateCommand).rejects(refusedBy({ s: 'processed', t: 50, c: 'x.1' }));

      const result = await store.settle('sn', 'A', 'x.1', settled, { status: 'completed', from: 'processing', version: 7 });

      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(result).toMatchObject({ ok: true, statusWritten: true });
    });

    it('is refused when the claim was lost', async () => {
      dynamo.on(UpdateCommand).rejects(refusedBy({ s: 'processing', c: 'y.1', l: 5 }));

      const result = await store.settle('sn', 'A', 'x.1', settled, { status: 'completed', from: 'processing', version: 7 });

      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(result).toMatchObject({ ok: false });
    });
  });

  it('returns the item that refused a claim, decoded', async () => {
    const current = { pk: 'T#sn', sk: 'STATE', name: 'sn', ra: 1, dec: 2, ts: '2020-01-01T00:00:00.000Z', ver: 4, ps: 'processing', r: { A: { s: 'processing', c: 'x.1', l: 5 } } };
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(current) }));

    const result = await store.claim('sn', toTaskSpec(runner('A', {})), { status: 'processing' }, 1);

    expect(result).toEqual({
      ok: false,
      current: expect.objectContaining({ version: 4, registers: { A: { status: 'processing', claim: 'x.1', leaseUntil: 5 } } }),
    });
  });

  it('holds a claim refused by its own earlier landing (a reply lost, the call sent again), and no other', async () => {
    const current = { pk: 'T#sn', sk: 'STATE', name: 'sn', ra: 1, dec: 2, ts: '2020-01-01T00:00:00.000Z', ver: 4, ps: 'processing', r: { A: { s: 'processing', c: 'x.1', l: 5 } } };
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(current) }));
    const spec = toTaskSpec(runner('A', {}));

    const own = await store.claim('sn', spec, { status: 'processing', claim: 'x.1' }, 1);
    const nextAttempt = await store.claim('sn', spec, { status: 'processing', claim: 'x.2' }, 1);

    expect(own).toEqual({ ok: true, record: expect.objectContaining({ version: 4 }) });
    expect(nextAttempt).toMatchObject({ ok: false });
  });

  it('lets other errors (throttling, outages) through, so the delivery is retried', async () => {
    dynamo.on(UpdateCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(store.claim('sn', toTaskSpec(runner('A', {})), { status: 'processing' }, 1)).rejects.toThrow('Rate exceeded');
  });

  it('replaces registers and data only if neither the version nor the processing status changed since the read', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { name: 'sn', r: {} } });

    await store.replace(
      'sn',
      { version: 7, processingStatus: 'completed' },
      { 'Host information': { status: 'not processed', lastModified: 5 } },
      'processing',
      { name: 'sn', raDeg: 1, decDeg: 2, publicTimestamp: '2020-01-01T00:00:00.000Z' },
    );

    const input = firstUpdate();
    expect(readable(input)).toBe('(ver = 7) AND (ps = "completed")');
    // A redshift the new data lacks is removed, not left behind.
    expect(input.UpdateExpression).toMatch(/ REMOVE #n\d+(, #n\d+)* ADD /);
    expect(Object.values(input.ExpressionAttributeNames ?? {})).toEqual(expect.arrayContaining(['ra', 'dec', 'pts', 'z', 'cls']));
  });

  it('never writes the same processing status twice, so a transition is counted once', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { name: 'sn', ps: 'processing', r: {} } });

    const previous = await store.setProcessingStatus('sn', 9, 'completed');

    const input = firstUpdate();
    expect(readable(input)).toBe('(attribute_exists(pk)) AND (ps <> "completed") AND ((attribute_not_exists(dv)) OR (dv < 9))');
    expect(input.ReturnValues).toBe('ALL_OLD');
    expect(previous?.processingStatus).toBe('processing');
  });

  it('moves counts with one atomic ADD on a counter item', async () => {
    dynamo.on(UpdateCommand).resolves({});

    await store.addCounts(11, { waiting: -1, processing: 1, blocked: 0 });

    const input = firstUpdate();
    expect(input.Key).toEqual({ pk: 'COUNTS#3', sk: 'COUNTS' });
    expect(input.UpdateExpression).toBe('ADD #n0 :v0, #n1 :v1');
    expect(input.ExpressionAttributeNames).toEqual({ '#n0': 'waiting', '#n1': 'processing' });
    expect(input.ExpressionAttributeValues).toEqual({ ':v0': -1, ':v1': 1 });
  });
});
