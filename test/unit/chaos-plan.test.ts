import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { Fault, FaultPlan, parseFaultPlan, runnerFaults } from '../../lib/chaos/plan';

const targets = Array.from({ length: 400 }, (_, i) => ({ key: `sn${i}/A`, subject: `sn${i}/A`, attempt: 1 }));
const decisions = (plan: FaultPlan) => targets.map((target) => plan.choose(runnerFaults, target));

describe('Function: FaultPlan', () => {
  it('replays: the same seed makes the same decisions, another seed others', () => {
    // Prepare
    const faults = { [Fault.RunnerThrows]: 0.2, [Fault.Overrun]: 0.1 };

    // Act
    const first = decisions(new FaultPlan({ seed: 42, faults }));
    const again = decisions(new FaultPlan({ seed: 42, faults }));
    const other = decisions(new FaultPlan({ seed: 43, faults }));

    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('injects each fault at about its rate, and at most one fault of a group per target', () => {
    const chosen = decisions(new FaultPlan({ seed: 1, faults: { [Fault.RunnerThrows]: 0.3, [Fault.InvalidStatus]: 0.2 } }));
    const share = (fault: Fault) => chosen.filter((decision) => decision === fault).length / chosen.length;
    expect(share(Fault.RunnerThrows)).toBeGreaterThan(0.2);
    expect(share(Fault.RunnerThrows)).toBeLessThan(0.4);
    expect(share(Fault.InvalidStatus)).toBeGreaterThan(0.12);
    expect(share(Fault.InvalidStatus)).toBeLessThan(0.28);
    expect(share(Fault.Overrun)).toBe(0);
  });

  it.each([
    ['rate 0', { rate: 0 }, { key: 'a/A', subject: 'a/A', attempt: 1 }, false],
    ['rate 1', { rate: 1 }, { key: 'a/A', subject: 'a/A', attempt: 1 }, true],
    ['a try past firstTries', { rate: 1, firstTries: 2 }, { key: 'a/A', subject: 'a/A', attempt: 3 }, false],
    ['a try within firstTries', { rate: 1, firstTries: 2 }, { key: 'a/A', subject: 'a/A', attempt: 2 }, true],
    ['a subject the match leaves out', { rate: 1, match: '^b/' }, { key: 'a/A', subject: 'a/A', attempt: 1 }, false],
    ['a subject the match takes', { rate: 1, match: '^a/' }, { key: 'a/A', subject: 'a/A', attempt: 1 }, true],
    ['no subject when one must match', { rate: 1, match: '^a' }, { key: 'UpdateItem', attempt: 1 }, false],
  ])('%s decides %#', (_case, setting, target, expected) => {
    expect(new FaultPlan({ seed: 5, faults: { [Fault.Kill]: setting } }).hits(Fault.Kill, target)).toBe(expected);
  });

  it('takes, of several aimed settings, the first whose match and firstTries apply', () => {
    // Prepare: "a" fails its first two tries, "b" every try
    const plan = new FaultPlan({ seed: 5, faults: { [Fault.RunnerThrows]: [{ rate: 1, firstTries: 2, match: '^a/' }, { rate: 1, match: '^b/' }] } });
    const hits = (subject: string, attempt: number) => plan.hits(Fault.RunnerThrows, { key: subject, subject, attempt });

    // Assess
    expect([1, 2, 3].map((attempt) => hits('a/A', attempt))).toEqual([true, true, false]);
    expect([1, 2, 3].map((attempt) => hits('b/A', attempt))).toEqual([true, true, true]);
    expect(hits('c/A', 1)).toBe(false);
    expect(plan.injects(Fault.RunnerThrows)).toBe(true);
  });
});

describe('Function: parseFaultPlan', () => {
  it('reads a plan, with every fault optional', () => {
    expect(parseFaultPlan('{"seed": 3, "faults": {"throttle": 0.1, "overrun": {"rate": 1, "firstTries": 1, "match": "^sn"}}}', 'CHAOS_PLAN')).toEqual({
      seed: 3,
      faults: { throttle: 0.1, overrun: { rate: 1, firstTries: 1, match: '^sn' } },
    });
    expect(parseFaultPlan('{"seed": 3}', 'CHAOS_PLAN')).toEqual({ seed: 3, faults: {} });
  });

  it.each([
    ['not JSON', '{seed', /CHAOS_PLAN must be JSON/],
    ['no seed', '{}', /seed: Invalid input/],
    ['an unknown fault', '{"seed": 1, "faults": {"meteor": 0.5}}', /faults: Unrecognized key: "meteor"/],
    ['a rate above 1', '{"seed": 1, "faults": {"throttle": 2}}', /faults\.throttle: Too big/],
    ['a match that is no regular expression', '{"seed": 1, "faults": {"throttle": {"rate": 1, "match": "("}}}', /faults\.throttle\.match is not a regular expression/],
    ['a listed match that is no regular expression', '{"seed": 1, "faults": {"throttle": [{"rate": 1}, {"rate": 1, "match": "("}]}}', /faults\.throttle\.1\.match is not a regular expression/],
    ['an empty list of settings', '{"seed": 1, "faults": {"throttle": []}}', /faults\.throttle/],
  ])('rejects %s with a ConfigError that says what is wrong', (_case, text, message) => {
    expect(() => parseFaultPlan(text, 'CHAOS_PLAN')).toThrow(ConfigError);
    expect(() => parseFaultPlan(text, 'CHAOS_PLAN')).toThrow(message);
  });
});
