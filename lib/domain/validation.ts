/**
 * Principle 1: the registry and the fixtures are checked once, early (synth, local start, tests, `validate`).
 * Every problem is one line naming the runner, the field and the fixture file involved.
 */
import { type Catalog, Status, StatusType, statusTypeOf } from './catalog';
import {
  type AnyDeclaration,
  ScratchAccess,
  SystemCapability,
  type TransientTaskDeclaration,
  isTransientDeclaration,
  pythonSourceOf,
  transientFields,
  MAX_VERSION_LENGTH,
} from './declaration';
import { RegistryValidationError } from './errors';
import { Compute, HEARTBEAT_BOUNDS, MAX_CONTAINER_TIMEOUT_SECONDS, computeKinds, fargateCpuFor } from './compute';
import { PYTHON_WORKER_MARGIN_SECONDS, isScheduleRate, isSecretName, reservedInTaskName, settingBounds } from './limits';
import { type TaskSpec, type Workflow, buildWorkflow, dependencyEdges, topologicalOrder } from './workflow';

export const runnerLabel = (runner: AnyDeclaration): string => {
  const python = pythonSourceOf(runner);
  if (python) return `Python runner ${python.className} in ${python.file}${runner.taskName ? ` ("${runner.taskName}")` : ''}`;
  const className = runner.constructor.name;
  return className && className !== 'Object' ? `runner ${className} ("${runner.taskName}")` : `runner "${runner.taskName}"`;
};

/** The runner's prerequisites with its own task's "not processed" made explicit, as Blast writes them. */
export const toTaskSpec = (runner: TransientTaskDeclaration): TaskSpec => ({
  task: runner.taskName,
  prerequisites: { ...runner.prerequisites, [runner.taskName]: runner.prerequisites[runner.taskName] ?? Status.NotProcessed },
  failedStatus: runner.failedStatusMessage,
});

const checkSettings = (runner: AnyDeclaration, label: string, issues: string[]) => {
  const { frequencySeconds } = runner;
  if (!isScheduleRate(frequencySeconds)) {
    issues.push(
      `${label}, field frequencySeconds: ${frequencySeconds} cannot be an EventBridge schedule (rate expressions take whole minutes: 60, 120, ...)`,
    );
  }
  const python = pythonSourceOf(runner);
  const container = isTransientDeclaration(runner) && runner.compute === Compute.Container;
  // In a container, `timeout_seconds` is the run's, checked with the container's settings.
  if (python && !container) {
    // Its worker waits for its function a little longer than the function may run, within Lambda's limit.
    const [min, max] = settingBounds.timeoutSeconds;
    const longest = max - PYTHON_WORKER_MARGIN_SECONDS;
    if (!Number.isInteger(python.timeoutSeconds) || python.timeoutSeconds < min || python.timeoutSeconds > longest) {
      issues.push(`${label}, field timeout_seconds: ${python.timeoutSeconds} is outside ${min}–${longest} (Lambda's ${max} s, less the ${PYTHON_WORKER_MARGIN_SECONDS} s its worker waits beyond it)`);
    }
  }
  if (isTransientDeclaration(runner)) checkCompute(runner, label, issues);
  const numeric: Partial<Record<keyof typeof settingBounds, number>> = {
    ...(container ? {} : { memorySize: runner.memorySize }),
    ...(python || container ? {} : { timeoutSeconds: runner.timeoutSeconds }),
    ...(isTransientDeclaration(runner)
      ? {
          batchSize: runner.batchSize,
          maxConcurrency: runner.maxConcurrency,
          maxReceiveCount: runner.maxReceiveCount,
          readyShards: runner.readyShards,
        }
      : {}),
  };
  for (const [field, value] of Object.entries(numeric)) {
    const [min, max] = settingBounds[field as keyof typeof settingBounds];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      issues.push(`${label}, field ${field}: ${value} is outside ${min}–${max}`);
    }
  }
  const listed = (field: string, values: readonly unknown[], allowed: readonly string[]) => {
    for (const value of values) {
      if (typeof value !== 'string' || !allowed.includes(value)) issues.push(`${label}, field ${field}: "${String(value)}" is not one of ${allowed.join(', ')}`);
    }
  };
  if (isTransientDeclaration(runner)) {
    listed('usesTransientFields', runner.usesTransientFields, transientFields);
    const { version } = runner;
    if (version !== undefined && (typeof version !== 'string' || !/^[A-Za-z0-9._+-]+$/.test(version) || version.length > MAX_VERSION_LENGTH)) {
      issues.push(`${label}, field version: ${JSON.stringify(version)} must be 1–${MAX_VERSION_LENGTH} letters, digits or . _ + - (every register carries it)`);
    }
  } else {
    listed('uses', runner.uses, Object.values(SystemCapability));
    listed('scratchAccess', runner.scratchAccess, Object.values(ScratchAccess));
  }
  for (const name of runner.secretNames) {
    if (!isSecretName(name)) issues.push(`${label}, field secretNames: "${String(name)}" is not a Secrets Manager secret name`);
  }
};

/** Where the runner runs, and for a container run, the settings that Fargate and SQS bound. */
const checkCompute = (runner: TransientTaskDeclaration, label: string, issues: string[]) => {
  if (!computeKinds.includes(runner.compute)) {
    issues.push(`${label}, field compute: "${String(runner.compute)}" is not one of ${computeKinds.join(', ')}`);
    return;
  }
  if (runner.compute !== Compute.Container) return;
  const { timeoutSeconds, heartbeatSeconds, memorySize } = runner;
  // A Python class's fields are named as the class writes them.
  const [timeoutField, heartbeatField, memoryField] = pythonSourceOf(runner) ? ['timeout_seconds', 'heartbeat_seconds', 'memory_size'] : ['timeoutSeconds', 'heartbeatSeconds', 'memorySize'];
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_CONTAINER_TIMEOUT_SECONDS) {
    issues.push(`${label}, field ${timeoutField}: ${timeoutSeconds} is outside 1–${MAX_CONTAINER_TIMEOUT_SECONDS} (a container run's message stays in flight at most 12 hours in SQS)`);
  }
  const [minBeat, maxBeat] = HEARTBEAT_BOUNDS;
  if (!Number.isInteger(heartbeatSeconds) || heartbeatSeconds < minBeat || heartbeatSeconds > maxBeat) {
    issues.push(`${label}, field ${heartbeatField}: ${heartbeatSeconds} is outside ${minBeat}–${maxBeat}`);
  }
  if (fargateCpuFor(memorySize) === undefined) {
    issues.push(`${label}, field ${memoryField}: ${memorySize} MB is not a Fargate task's memory (512, or whole GB from 1 to 30)`);
  }
};

const checkTransientRunner = (runner: TransientTaskDeclaration, label: string, catalog: Catalog, issues: string[]) => {
  const { statusFile, taskFile } = catalog;

  if (!catalog.tasks.has(runner.taskName)) {
    issues.push(`${label}, field taskName: unknown task "${runner.taskName}" — not declared in ${taskFile}`);
  }
  for (const [task, status] of Object.entries(runner.prerequisites ?? {})) {
    if (!catalog.tasks.has(task)) {
      issues.push(`${label}, field prerequisites: unknown task "${task}" — not declared in ${taskFile}`);
    }
    const type = statusTypeOf(catalog, status);
    if (type === undefined) {
      issues.push(`${label}, field prerequisites: unknown status "${status}" for "${task}" — not declared in ${statusFile}`);
    } else if (type === StatusType.Warning) {
      issues.push(`${label}, field prerequisites: "${task}" must be "${status}", a passing ${type} status in ${statusFile} that cannot be waited for`);
    }
    if (task === runner.taskName && status !== Status.NotProcessed) {
      issues.push(`${label}, field prerequisites: its own task must be "${Status.NotProcessed}", not "${status}"`);
    }
  }
  const failedType = statusTypeOf(catalog, runner.failedStatusMessage);
  if (failedType === undefined) {
    issues.push(`${label}, field failedStatusMessage: unknown status "${runner.failedStatusMessage}" — not declared in ${statusFile}`);
  } else if (failedType !== StatusType.Error) {
    issues.push(
      `${label}, field failedStatusMessage: "${runner.failedStatusMessage}" has type ${failedType} in ${statusFile}; a failed status must have type error`,
    );
  }
};

/** Tasks that can run from a fresh transient: those whose every dependency can run too. */
const reachableTasks = (specs: ReadonlyMap<string, TaskSpec>): Set<string> => {
  const reachable = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [task, spec] of specs) {
      if (!reachable.has(task) && dependencyEdges(spec).every((on) => reachable.has(on))) {
        reachable.add(task);
        grew = true;
      }
    }
  }
  return reachable;
};

export interface ValidationResult {
  readonly issues: string[];
  readonly workflow: Workflow;
}

export const validateRegistry = (catalog: Catalog, runners: readonly AnyDeclaration[]): ValidationResult => {
  const issues: string[] = [];
  const byName = new Map<string, string>();
  const specs = new Map<string, TaskSpec>();
  for (const runner of runners) {
    const label = runnerLabel(runner);
    // A Python runner whose declaration could not be read has nothing else to check.
    const problem = pythonSourceOf(runner)?.problem;
    if (problem) {
      issues.push(`${label}: ${problem}`);
      continue;
    }
    const first = byName.get(runner.taskName);
    if (first) {
      issues.push(`${label}, field taskName: "${runner.taskName}" already has ${first}; one runner per task`);
      continue;
    }
    byName.set(runner.taskName, label);
    const reserved = reservedInTaskName(runner.taskName);
    if (reserved.length > 0) {
      issues.push(`${label}, field taskName: "${runner.taskName}" holds ${reserved.map((character) => `"${character}"`).join(', ')}, which the table's keys and IAM's patterns reserve; rename the task`);
    }
    checkSettings(runner, label, issues);
    if (isTransientDeclaration(runner)) {
      checkTransientRunner(runner, label, catalog, issues);
      specs.set(runner.taskName, toTaskSpec(runner));
    } else if (catalog.tasks.has(runner.taskName)) {
      issues.push(
        `${label}, field taskName: "${runner.taskName}" is a transient task in ${catalog.taskFile}; a system runner cannot work on it`,
      );
    }
  }

  const { cyclic } = topologicalOrder([...specs.keys()], specs);
  if (cyclic.length > 0) {
    issues.push(
      `prerequisite cycle between ${cyclic.map((task) => byName.get(task)).join(', ')}, field prerequisites: none of them can ever run`,
    );
  }
  const cyclicSet = new Set(cyclic);
  const reachable = reachableTasks(specs);
  for (const [task, { source }] of catalog.tasks) {
    if (reachable.has(task) || cyclicSet.has(task)) continue;
    const spec = specs.get(task);
    if (!spec) {
      issues.push(`task "${task}" (${source.file}:${source.line}) has no runner in the registry, so no transient would ever complete`);
      continue;
    }
    // Waiting on an unknown task is reported above already.
    const waitsOn = dependencyEdges(spec).filter((on) => !reachable.has(on) && catalog.tasks.has(on));
    if (waitsOn.length === 0) continue;
    issues.push(
      `${byName.get(task)}, field prerequisites: unreachable — it waits on ${waitsOn.map((on) => `"${on}"`).join(', ')}, which can never run`,
    );
  }
  return { issues, workflow: buildWorkflow(catalog, [...specs.values()]) };
};

/** Validates and returns the workflow, or throws one error listing every problem. */
export const assertValidRegistry = (catalog: Catalog, runners: readonly AnyDeclaration[]): Workflow => {
  const { issues, workflow } = validateRegistry(catalog, runners);
  if (issues.length > 0) throw new RegistryValidationError(issues);
  return workflow;
};
