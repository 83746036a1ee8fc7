/**
 * Scratch data (cutouts, intermediate files): objects under an S3 prefix in AWS, files under a directory
 * locally. One setting, SCRATCH_LOCATION, picks the place — `s3://bucket/prefix/` or a directory path —
 * so the handlers are the same in both. By convention a transient's scratch data lives under its name:
 * `<location>/<transient name>/...`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../settings/config';
import type { ScratchStore } from '../runner';
import { objectStore } from './object-store';

/** The store for SCRATCH_LOCATION: `s3://bucket/prefix/`, a `file://` URL or a directory path. */
export const scratchStore = (location: string, s3?: () => S3Client): ScratchStore => {
  const store = objectStore(location, ENV.scratchLocation, s3);
  return { location: store.location, list: (signal) => store.list('', signal), delete: (keys) => store.delete(keys) };
};
