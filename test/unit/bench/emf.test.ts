import { afterEach, describe, expect, it } from 'vitest';
import { captureStdout, parseEmf } from '../../../bench/emf';
import { Metric, TaskMetrics } from '../../../lib/engine/telemetry';

describe('Function: captureStdout', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it("reads the metrics the handlers' TaskMetrics publish, and counts the JSON log lines", () => {
    // Prepare: metrics are on here, whatever the test environment says
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const seen: { task: string | undefined; readyToClaim: number[]; claimed: number }[] = [];
    const output = captureStdout((document) =>
      seen.push({ task: document.task, readyToClaim: document.values(Metric.ReadyToClaim), claimed: document.sum(Metric.Claimed) }),
    );
    restore = output.restore;
    const metrics = new TaskMetrics('bench-test');

    // Act
    metrics.add('Host match', Metric.ReadyToClaim, 12);
    metrics.add('Host match', Metric.ReadyToClaim, 30);
    metrics.add('Host match', Metric.Claimed);
    metrics.add('Host match', Metric.Claimed);
    metrics.publish();
    process.stdout.write('{"level":"INFO","message":"claimed"}\n');
    output.restore();
    process.env.POWERTOOLS_METRICS_DISABLED = previous;

    // Assess
    expect(seen).toEqual([{ task: 'Host match', readyToClaim: [12, 30], claimed: 2 }]);
    expect(output.logBytes).toBe('{"level":"INFO","message":"claimed"}\n'.length);
    expect(output.emfBytes).toBeGreaterThan(0);
  });
});

describe('Function: parseEmf', () => {
  it('leaves other lines alone', () => {
    expect(parseEmf('{"level":"INFO"}')).toBeUndefined();
    expect(parseEmf('plain text')).toBeUndefined();
  });
});
