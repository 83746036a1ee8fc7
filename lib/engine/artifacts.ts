/**
 * The port through which the engine keeps runs' artifacts (ARTIFACT_LOCATION): objects under an S3 prefix in
 * AWS, files under a directory here (lib/scratch/artifact-store.ts implements both). Keys are relative to the
 * location; which keys a run may write and which are current is the domain's (lib/domain/artifacts.ts).
 */

/** What a stored object is, as listed. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface ArtifactStore {
  /** `s3://bucket/prefix/` or a directory: what a Python run is given to write its own artifacts. */
  readonly location: string;
  /** Stores `bytes` at `key` (replacing what was there); returns its size and SHA-256 (lowercase hex). */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<{ key: string; size: number; sha256: string }>;
  /** The bytes at `key`, or undefined if there are none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** The objects whose keys start with `prefix`, a page at a time. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<readonly StoredObject[]>;
  /** Deletes the objects; returns the keys that could not be deleted, with the reason. */
  delete(keys: readonly string[]): Promise<{ key: string; reason: string }[]>;
}
