import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { RegistryValidationError } from '../../lib/domain/errors';
import { assertValidRegistry, toTaskSpec, validateRegistry } from '../../lib/domain/validation';
import { loadCatalog } from '../../lib/fixtures/load-catalog';
import { SystemTaskRunner } from '../../lib/runner';
import { catalogOf, diamondRunners, runner } from '../helpers/factories';

const issuesOf = (runners: Parameters<typeof validateRegistry>[1], tasks = ['A', 'B', 'C', 'D']) =>
  validateRegistry(catalogOf(tasks), runners).issues;

class Snapshot extends SystemTaskRunner {
  readonly taskName = 'Snapshot';
  process() {}
}

describe('Contract: the registry and the fixtures', () => {
  it('every prerequisite of every registered runner names a known task and status', () => {
    // Prepare
    const catalog = loadCatalog('fixtures');

    // Act
    const { issues, workflow } = validateRegistry(catalog, registry);

    // Assess
    expect(issues).toEqual([]);
    for (const spec of workflow.specs.values()) {
      for (const [task, status] of Object.entries(spec.prerequisites)) {
        expect(catalog.tasks.has(task), task).toBe(true);
        expect(catalog.statuses.has(status), status).toBe(true);
      }
      expect(catalog.statuses.get(spec.failedStatus)?.type).toBe('error');
    }
    expect(workflow.order).toEqual([...catalog.tasks.keys()]);
  });
});

describe('Function: validateRegistry', () => {
  it('accepts a valid workflow with a system runner beside it', () => {
    expect(issuesOf([...diamondRunners(), new Snapshot()])).toEqual([]);
  });

  it.each([
    ['an unknown task name', runner('E', { E: 'not processed' }), 'runner E ("E"), field taskName: unknown task "E" — not declared in tasks.yaml'],
    ['a prerequisite on an unknown task', runner('D', { Bee: 'processed' }), 'runner D ("D"), field prerequisites: unknown task "Bee" — not declared in tasks.yaml'],
    ['an unknown status', runner('D', { B: 'procesed' }), 'runner D ("D"), field prerequisites: unknown status "procesed" for "B" — not declared in status.yaml'],
    ['an unknown failed status', runner('D', { B: 'processed' }, { failed: 'broke' }), 'runner D ("D"), field failedStatusMessage: unknown status "broke" — not declared in status.yaml'],
    [
      'a failed status that is not an error',
      runner('D', { B: 'processed' }, { failed: 'processed' }),
      'runner D ("D"), field failedStatusMessage: "processed" has type success in status.yaml; a failed status must have type error',
    ],
    ['waiting for "processing"', runner('D', { B: 'processing' }), 'runner D ("D"), field prerequisites: "B" must be "processing", a passing warning status in status.yaml that cannot be waited for'],
    ['its own task required as processed', runner('D', { D: 'processed' }), 'runner D ("D"), field prerequisites: its own task must be "not processed", not "processed"'],
    [
      'a frequency EventBridge cannot express',
      runner('D', { B: 'processed' }, { settings: { frequencySeconds: 90 } }),
      'runner D ("D"), field frequencySeconds: 90 cannot be an EventBridge schedule (rate expressions take whole minutes: 60, 120, ...)',
    ],
    ['a timeout Lambda refuses', runner('D', { B: 'processed' }, { settings: { timeoutSeconds: 1200 } }), 'runner D ("D"), field timeoutSeconds: 1200 is outside 1–900'],
    [
      'a container run longer than its message may stay in flight',
      runner('D', { B: 'processed' }, { settings: { compute: 'container', timeoutSeconds: 12 * 3600 } }),
      'runner D ("D"), field timeoutSeconds: 43200 is outside 1–39600 (a container run\'s message stays in flight at most 12 hours in SQS)',
    ],
    [
      'a container memory Fargate refuses',
      runner('D', { B: 'processed' }, { settings: { compute: 'container', memorySize: 1536 } }),
      'runner D ("D"), field memorySize: 1536 MB is not a Fargate task\'s memory (512, or whole GB from 1 to 30)',
    ],
    ['a heartbeat of no seconds', runner('D', { B: 'processed' }, { settings: { compute: 'container', heartbeatSeconds: 0 } }), 'runner D ("D"), field heartbeatSeconds: 0 is outside 1–600'],
    ['an unknown compute', runner('D', { B: 'processed' }, { settings: { compute: 'batch' as 'container' } }), 'runner D ("D"), field compute: "batch" is not one of lambda, container'],
    ['a maximum concurrency SQS refuses', runner('D', { B: 'processed' }, { settings: { maxConcurrency: 1 } }), 'runner D ("D"), field maxConcurrency: 1 is outside 2–1000'],
  ])('reports %s, naming runner, field and file', (_case, extra, expected) => {
    const runners = [...diamondRunners().filter((r) => r.taskName !== 'D' || extra.taskName !== 'D'), extra];
    expect(issuesOf(runners)).toContain(expected);
  });

  it('lets a container run take hours, beyond Lambda\'s 15 minutes', () => {
    const long = runner('D', { B: 'processed' }, { settings: { compute: 'container', timeoutSeconds: 4 * 3600, memorySize: 8192 } });
    expect(issuesOf([...diamondRunners().filter((r) => r.taskName !== 'D'), long])).toEqual([]);
  });

  it('reports two runners for one task', () => {
    const issues = issuesOf([...diamondRunners(), runner('B', { A: 'processed' })]);
    expect(issues).toContain('runner B ("B"), field taskName: "B" already has runner B ("B"); one runner per task');
  });

  it('reports a prerequisite cycle once, naming every runner in it', () => {
    const runners = [runner('A', {}), runner('B', { A: 'processed', C: 'processed' }), runner('C', { B: 'processed' })];
    expect(issuesOf(runners, ['A', 'B', 'C'])).toEqual([
      'prerequisite cycle between runner B ("B"), runner C ("C"), field prerequisites: none of them can ever run',
    ]);
  });

  it('reports a task with no runner and the tasks that wait on it', () => {
    const runners = diamondRunners().filter((r) => r.taskName !== 'B');
    expect(issuesOf(runners)).toEqual([
      'task "B" (tasks.yaml:4) has no runner in the registry, so no transient would ever complete',
      'runner D ("D"), field prerequisites: unreachable — it waits on "B", which can never run',
    ]);
  });

  it('does not treat "not processed" of another task as a dependency (no false cycle)', () => {
    const runners = [runner('A', {}), runner('B', { A: 'processed', C: 'not processed' }), runner('C', { A: 'processed', B: 'not processed' })];
    expect(issuesOf(runners, ['A', 'B', 'C'])).toEqual([]);
  });

  it('reports a system runner whose uses names no context method', () => {
    class Misdeclared extends SystemTaskRunner {
      readonly taskName = 'Misdeclared';
      override readonly uses = ['count'] as unknown as SystemTaskRunner['uses'];
      process() {}
    }
    expect(issuesOf([...diamondRunners(), new Misdeclared()])).toEqual([expect.stringMatching(/^runner Misdeclared \("Misdeclared"\), field uses: .*"count"/)]);
  });

  it('reports a system runner given a transient task', () => {
    class Wrong extends SystemTaskRunner {
      readonly taskName = 'A';
      process() {}
    }
    expect(issuesOf([...diamondRunners().slice(1), new Wrong()])).toContain(
      'runner Wrong ("A"), field taskName: "A" is a transient task in tasks.yaml; a system runner cannot work on it',
    );
  });

  it('reports a task name holding a character the table\'s keys or IAM\'s patterns reserve', () => {
    class Nightly extends SystemTaskRunner {
      readonly taskName = 'Nightly #1 *';
      process() {}
    }
    const issues = issuesOf([...diamondRunners(), runner('A?B', {}), new Nightly()], ['A', 'B', 'C', 'D', 'A?B']);
    expect(issues).toContain('runner AB ("A?B"), field taskName: "A?B" holds "?", which the table\'s keys and IAM\'s patterns reserve; rename the task');
    expect(issues).toContain('runner Nightly ("Nightly #1 *"), field taskName: "Nightly #1 *" holds "#", "*", which the table\'s keys and IAM\'s patterns reserve; rename the task');
  });

  it('throws one error listing every problem', () => {
    const run = () => assertValidRegistry(catalogOf(['A']), [runner('A', { Z: 'nope' }, { failed: 'processed' })]);
    expect(run).toThrow(RegistryValidationError);
    expect(run).toThrow(/3 problems in the registry or fixtures/);
  });
});

describe('Function: toTaskSpec', () => {
  it("adds the task's own \"not processed\" when the runner leaves it out, as Blast's docs allow", () => {
    expect(toTaskSpec(runner('B', { A: 'processed' })).prerequisites).toEqual({ A: 'processed', B: 'not processed' });
  });
});
