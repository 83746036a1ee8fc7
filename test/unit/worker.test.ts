import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../lib/engine/worker';
import { parseTaskMessage } from '../../lib/domain/messages';
import { PoisonMessageError } from '../../lib/domain/errors';

describe('Function: retryDelaySeconds', () => {
  it.each([
    [1, 0, 5],
    [1, 1, 10],
    [2, 0, 10],
    [3, 1, 40],
  ])('attempt %i with jitter %f waits %i s from a 10 s base', (attempt, jitter, expected) => {
    expect(retryDelaySeconds(10, attempt, () => jitter)).toBe(expected);
  });

  it('never waits longer than 15 minutes', () => {
    expect(retryDelaySeconds(10, 30, () => 1)).toBe(900);
  });
});

describe('Function: parseTaskMessage', () => {
  it('accepts a task message', () => {
    expect(parseTaskMessage('{"transient":"2010H","task":"Host match","readyAt":5}')).toEqual({ transient: '2010H', task: 'Host match', readyAt: 5 });
  });

  it.each([
    ['not JSON', '{oops', /message body is not JSON/],
    ['a missing task', '{"transient":"2010H","readyAt":5}', /task: Invalid input/],
    ['an extra field', '{"transient":"2010H","task":"A","readyAt":5,"x":1}', /Unrecognized key/],
  ])('rejects %s as a poison message', (_case, body, expected) => {
    expect(() => parseTaskMessage(body)).toThrow(PoisonMessageError);
    expect(() => parseTaskMessage(body)).toThrow(expected);
  });
});
