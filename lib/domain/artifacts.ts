/**
 * Artifacts: files a run writes for later tasks (cutouts, posteriors), kept at the artifact location (an S3
 * prefix in AWS, a directory here) under a key per run, `<transient>/<task>/<run id>/<name>`, so that a run
 * of the same task (a retry, a reprocess) never overwrites another's and the register's claim says which run's
 * files are current. What a run put is recorded, key, size and checksum, in its output item; pruning deletes
 * every run's files but those of the run each register holds.
 */
import { NonRetryableTaskError } from './errors';

/** One stored artifact of a run. */
export interface Artifact {
  /** The name the run gave it. */
  readonly name: string;
  /** Its key under the artifact location: `<transient>/<task>/<run id>/<name>`, each part URI-encoded but the name. */
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** SHA-256 of its bytes, lowercase hex. */
  readonly sha256: string;
}

/** A run's artifacts by name (its output item's manifest). */
export type ArtifactManifest = Readonly<Record<string, Artifact>>;

export const artifactLimits = {
  /** Artifacts one run may put: its manifest stays a small part of its output item. */
  perRun: 32,
  /** Characters in a name. */
  nameLength: 128,
  /** Bytes in one artifact: S3's largest single PutObject. */
  bytes: 5 * 1024 ** 3,
} as const;

/** A name is '/'-separated segments of letters, digits, `.`, `_` and `-`, each starting with a letter or digit. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** The name under which an output too large for an item is kept (no runner's name can start with `_`). */
export const SPILLED_OUTPUT_NAME = '_output.json';

/** A run asked for more than artifacts allow; retrying cannot help, so its failed status is recorded at once. */
export class ArtifactLimitError extends NonRetryableTaskError {}

/** Throws an ArtifactLimitError naming what is wrong with `name`, unless it is a valid artifact name. */
export const validateArtifactName = (name: unknown): string => {
  if (typeof name !== 'string' || name.length === 0) throw new ArtifactLimitError(`an artifact name must be a non-empty string, not ${JSON.stringify(name)}`);
  if (name.length > artifactLimits.nameLength) throw new ArtifactLimitError(`artifact name "${name.slice(0, 40)}..." is longer than ${artifactLimits.nameLength} characters`);
  if (!NAME.test(name)) {
    throw new ArtifactLimitError(
      `artifact name "${name}" must be '/'-separated parts of letters, digits, ".", "_" and "-", each starting with a letter or digit (no "..", no leading "/")`,
    );
  }
  return name;
};

/** A transient's, task's or run's part of a key: URI-encoded, so that a task name's spaces make no trouble. */
export const artifactKeySegment = (part: string): string => encodeURIComponent(part);
const segment = artifactKeySegment;

/** The key prefix of one run's artifacts, ending in `/`. */
export const runPrefix = (transient: string, task: string, runId: string): string => `${segment(transient)}/${segment(task)}/${segment(runId)}/`;

export const artifactKey = (transient: string, task: string, runId: string, name: string): string => `${runPrefix(transient, task, runId)}${name}`;

/** The run an artifact key belongs to, or undefined for a key that is no run's. */
export const runOfArtifactKey = (key: string): { transient: string; task: string; runId: string; name: string } | undefined => {
  const [transient, task, runId, ...name] = key.split('/');
  if (!transient || !task || !runId || name.length === 0) return undefined;
  try {
    return { transient: decodeURIComponent(transient), task: decodeURIComponent(task), runId: decodeURIComponent(runId), name: name.join('/') };
  } catch {
    return undefined;
  }
};

/**
 * Adds `artifact` to a run's manifest: the same name again replaces it; a new name past the per-run limit is
 * refused. Checks the entry, as one a Python run reports is checked.
 */
export const addToManifest = (manifest: ArtifactManifest, artifact: Artifact, prefix: string): ArtifactManifest => {
  const name = validateArtifactName(artifact.name);
  if (artifact.key !== `${prefix}${name}`) throw new ArtifactLimitError(`artifact "${name}" has key "${artifact.key}", not this run's "${prefix}${name}"`);
  if (!Number.isSafeInteger(artifact.size) || artifact.size < 0 || artifact.size > artifactLimits.bytes) {
    throw new ArtifactLimitError(`artifact "${name}" has size ${artifact.size}; at most ${artifactLimits.bytes} bytes`);
  }
  if (!SHA256.test(artifact.sha256)) throw new ArtifactLimitError(`artifact "${name}" has checksum "${artifact.sha256}", not a SHA-256 in lowercase hex`);
  if (!(name in manifest) && Object.keys(manifest).length >= artifactLimits.perRun) {
    throw new ArtifactLimitError(`a run may put at most ${artifactLimits.perRun} artifacts; "${name}" would be one more`);
  }
  return { ...manifest, [name]: { name, key: artifact.key, size: artifact.size, sha256: artifact.sha256 } };
};

/**
 * Bytes of an output saved as an item; one larger goes to an artifact ({@link SPILLED_OUTPUT_NAME}). DynamoDB
 * takes items of up to 400 KB; the rest is for the keys and the manifest.
 */
export const MAX_INLINE_OUTPUT_BYTES = 300_000;
