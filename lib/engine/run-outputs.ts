/**
 * What a run leaves for later tasks: the data it saves and the artifacts it puts, recorded in its output item
 * (under its claim token) before it settles. Later runs find them through the register's claim, so only the run
 * whose result the register holds is ever read; a reprocess makes a new run whose output and artifacts supersede
 * the old ones (which pruning then deletes). TypeScript runs call these through their context; a Python run
 * writes its artifacts itself and reports them, and its report is recorded through the same calls.
 */
import {
  type Artifact,
  type ArtifactManifest,
  ArtifactLimitError,
  MAX_INLINE_OUTPUT_BYTES,
  SPILLED_OUTPUT_NAME,
  addToManifest,
  artifactKey,
  runPrefix,
  validateArtifactName,
} from '../domain/artifacts';
import type { ArtifactUse } from '../domain/declaration';
import { ConfigError, TaskRunnerError } from '../domain/errors';
import { type Registers, upstreamTasks } from '../domain/workflow';
import { z } from 'zod';
import type { TaskArtifacts, TaskContext } from '../runner';
import { createHash } from 'node:crypto';
import type { ArtifactStore } from './artifacts';
import type { Engine } from './engine';
import type { RunOutput } from './store';
import type { EventOutput, RunEvent } from './runner-functions';

/** Bytes at the artifact location that are not what their run recorded (a partial write, a tampered object). */
export class ArtifactIntegrityError extends TaskRunnerError {}

const storeOf = (engine: Engine): ArtifactStore => {
  if (!engine.artifacts) throw new ConfigError('ARTIFACT_LOCATION is not set: artifacts have no place (s3://bucket/prefix/ or a directory)');
  return engine.artifacts;
};

/** The bytes of a recorded artifact, checked against its recorded size and SHA-256. */
export const readArtifact = async (engine: Engine, artifact: Artifact): Promise<Uint8Array> => {
  const bytes = await storeOf(engine).get(artifact.key);
  if (!bytes) throw new ArtifactIntegrityError(`artifact "${artifact.name}" is recorded but missing at ${artifact.key}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.byteLength !== artifact.size || sha256 !== artifact.sha256) {
    throw new ArtifactIntegrityError(`artifact "${artifact.name}" at ${artifact.key} is not what its run recorded (${bytes.byteLength} bytes, SHA-256 ${sha256})`);
  }
  return bytes;
};

/** The data of a run's output, read back from its artifact when it was too large for an item. */
export const outputData = async <T extends object = Record<string, unknown>>(engine: Engine, output: RunOutput | undefined): Promise<T | undefined> => {
  if (output?.spilled) return JSON.parse(Buffer.from(await readArtifact(engine, output.spilled)).toString('utf8')) as T;
  return output?.data as T | undefined;
};

/** The output of the run whose result `task`'s register holds, as of `registers`. */
const currentOutput = (engine: Engine, name: string, task: string, registers: Registers): Promise<RunOutput | undefined> => {
  const holder = registers[task]?.claim;
  return holder === undefined ? Promise.resolve(undefined) : engine.store.outputs.read(name, task, holder);
};

/** What a Python run reported besides its status (python/blast_tasks/lambda_handler.py). */
export interface ReportedResults {
  readonly output?: Record<string, unknown>;
  readonly artifacts?: readonly Artifact[];
}

export interface RunRecorder {
  readonly output: TaskContext['output'];
  readonly save: TaskContext['save'];
  readonly artifacts: TaskArtifacts;
  /** The key prefix of this run's artifacts (a Python run writes under it). */
  readonly prefix: string;
  /** The output items of `tasks`' current runs (those their registers hold), read once per run. */
  currentOutputs(tasks: readonly string[]): Promise<ReadonlyMap<string, RunOutput>>;
  /** Records what a Python run wrote itself and reported, through the calls a TypeScript run makes. */
  adopt(results: ReportedResults): Promise<void>;
  /** Writes the run's manifest if artifacts were put since its last save; called before the run settles. */
  flush(): Promise<void>;
  /** The names of the artifacts this run put so far. */
  artifactNames(): string[];
}

/** Where one run is and what it may do with the artifacts (lib/domain/declaration.ts artifactUseOf). */
export interface RunScope {
  readonly name: string;
  readonly task: string;
  /** The claim token the run holds. */
  readonly token: string;
  /** The registers its claim read. */
  readonly registers: Registers;
  readonly use: ArtifactUse;
}

/** A run that uses the artifacts in a way its runner does not declare (its roles in AWS would be refused too). */
const undeclared = (task: string, what: string, declaration: 'usesArtifacts' | 'readsArtifacts') => {
  const python = declaration === 'usesArtifacts' ? 'uses_artifacts' : 'reads_artifacts';
  const may = declaration === 'usesArtifacts' ? 'write' : 'read';
  return new ArtifactLimitError(`${what}, but "${task}" does not declare ${declaration} (${python} = True in Python): only runners that declare it may ${may} artifacts`);
};

/** The recorder of one run; `beforeWrite` checks that the run may still write (its function's deadline). */
export const runRecorder = (engine: Engine, { name, task, token, registers, use }: RunScope, beforeWrite: (what: string) => void): RunRecorder => {
  const prefix = runPrefix(name, task, token);
  let manifest: ArtifactManifest = {};
  let saved: Pick<RunOutput, 'data' | 'spilled'> = {};
  let written = true;
  const earlier = new Map<string, Promise<RunOutput | undefined>>();
  const outputOf = (from: string) => {
    let read = earlier.get(from);
    if (!read) {
      read = currentOutput(engine, name, from, registers);
      earlier.set(from, read);
    }
    return read;
  };
  const write = async () => {
    beforeWrite('the run saved its output');
    await engine.store.outputs.save(name, task, token, { ...saved, ...(Object.keys(manifest).length > 0 ? { artifacts: manifest } : {}) }, engine.clock());
    written = true;
  };
  const manifestOf = async (from: string | undefined) => (from === undefined ? manifest : ((await outputOf(from))?.artifacts ?? {}));
  const record = (artifact: Artifact) => {
    manifest = addToManifest(manifest, artifact, prefix);
    written = false;
  };

  const save = async (data: Record<string, unknown>) => {
    const text = JSON.stringify(data);
    if (Buffer.byteLength(text) > MAX_INLINE_OUTPUT_BYTES) {
      if (!use.writes) throw undeclared(task, `the run saved an output of ${Buffer.byteLength(text)} bytes, more than an item holds (${MAX_INLINE_OUTPUT_BYTES}), which goes to an artifact`, 'usesArtifacts');
      beforeWrite('the run saved its output');
      const stored = await storeOf(engine).put(artifactKey(name, task, token, SPILLED_OUTPUT_NAME), Buffer.from(text), 'application/json');
      saved = { spilled: { name: SPILLED_OUTPUT_NAME, ...stored } };
    } else {
      saved = { data };
    }
    await write();
  };

  const artifacts: TaskArtifacts = {
    async put(artifactName, data, contentType = 'application/octet-stream') {
      if (!use.writes) throw undeclared(task, `the run put artifact "${artifactName}"`, 'usesArtifacts');
      validateArtifactName(artifactName);
      // Refused before anything is written: a run over the limit leaves no file no record names.
      addToManifest(manifest, { name: artifactName, key: `${prefix}${artifactName}`, size: 0, sha256: '0'.repeat(64) }, prefix);
      beforeWrite(`the run put artifact "${artifactName}"`);
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      const stored = await storeOf(engine).put(`${prefix}${artifactName}`, bytes, contentType);
      const artifact = { name: artifactName, ...stored };
      record(artifact);
      return artifact;
    },
    async get(artifactName, options = {}) {
      if (!use.reads) throw undeclared(task, `the run read artifact "${artifactName}" of "${options.task ?? task}"`, 'readsArtifacts');
      const artifact = (await manifestOf(options.task))[artifactName];
      return artifact ? readArtifact(engine, artifact) : undefined;
    },
    async list(options = {}) {
      if (!use.reads) throw undeclared(task, `the run listed the artifacts of "${options.task ?? task}"`, 'readsArtifacts');
      return Object.values(await manifestOf(options.task));
    },
  };

  return {
    prefix,
    output: async <T extends object>(from: string) => {
      const output = await outputOf(from);
      if (output?.spilled && !use.reads) throw undeclared(task, `the run read the output of "${from}", which was too large for an item and went to an artifact`, 'readsArtifacts');
      return outputData<T>(engine, output);
    },
    save,
    artifacts,
    async currentOutputs(tasks) {
      const read = await Promise.all(tasks.map(async (from) => [from, await outputOf(from)] as const));
      return new Map(read.flatMap(([from, output]) => (output ? [[from, output] as const] : [])));
    },
    async adopt(results) {
      const [first] = results.artifacts ?? [];
      if (first && !use.writes) throw undeclared(task, `the function reported artifact "${first.name}"`, 'usesArtifacts');
      for (const artifact of results.artifacts ?? []) record(artifact);
      if (results.output !== undefined) await save(results.output);
    },
    async flush() {
      if (!written) await write();
    },
    artifactNames: () => Object.keys(manifest),
  };
};

/**
 * The event of a Python run: the transient, and what its `self.context` needs so that the function reads no table —
 * the outputs and artifacts of the runs its upstream tasks' registers hold, and where its own artifacts go.
 */
export const runEventOf = async (
  engine: Engine,
  recorder: RunRecorder,
  base: Pick<RunEvent, 'transient' | 'attempt' | 'runId'>,
  task: string,
): Promise<RunEvent> => {
  const current = await recorder.currentOutputs(upstreamTasks(engine.workflow, task));
  const outputs: Record<string, EventOutput> = {};
  const upstream: Record<string, Artifact[]> = {};
  for (const [from, output] of current) {
    if (output.spilled) outputs[from] = { spilled: output.spilled };
    else if (output.data !== undefined) outputs[from] = { data: output.data };
    if (output.artifacts) upstream[from] = Object.values(output.artifacts);
  }
  return { ...base, outputs, ...(engine.artifacts ? { artifacts: { location: engine.artifacts.location, prefix: recorder.prefix, upstream } } : {}) };
};

const artifactSchema = z.object({ name: z.string(), key: z.string(), size: z.number(), sha256: z.string() });
const reportedSchema = z.looseObject({ output: z.record(z.string(), z.unknown()).optional(), artifacts: z.array(artifactSchema).optional() });

/** The output and artifacts a function reported, or an ArtifactLimitError saying why they cannot be recorded. */
export const reportedResults = (result: unknown): ReportedResults => {
  const parsed = reportedSchema.safeParse(result);
  if (!parsed.success) throw new ArtifactLimitError(`the function's "output" or "artifacts" is malformed: ${z.prettifyError(parsed.error).slice(0, 300)}`);
  return parsed.data;
};
