/**
 * Scratch data (cutouts, intermediate files): objects under an S3 prefix in AWS, files under a directory
 * locally. One setting, SCRATCH_LOCATION, picks the place — `s3://bucket/prefix/` or a directory path —
 * so the handlers are the same in both. By convention a transient's scratch data lives under its name:
 * `<location>/<transient name>/...`.
 */
import { opendir, rm, rmdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectsCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { ConfigError } from '../domain/errors';
import type { ScratchObject, ScratchStore } from '../runner';

/** Objects per listed page and per DeleteObjects request (S3's maximum for both). */
const PAGE_SIZE = 1000;

const s3Store = (s3: S3Client, bucket: string, prefix: string): ScratchStore => ({
  location: `s3://${bucket}/${prefix}`,
  async *list(signal) {
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: PAGE_SIZE }, { Bucket: bucket, Prefix: prefix })) {
      signal?.throwIfAborted();
      const objects = (page.Contents ?? []).flatMap((object): ScratchObject[] =>
        object.Key && object.LastModified
          ? [{ key: object.Key.slice(prefix.length), lastModified: object.LastModified, size: object.Size ?? 0 }]
          : [],
      );
      if (objects.length > 0) yield objects;
    }
  },
  async delete(keys) {
    const failed: { key: string; reason: string }[] = [];
    for (let i = 0; i < keys.length; i += PAGE_SIZE) {
      const group = keys.slice(i, i + PAGE_SIZE);
      const result = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: group.map((key) => ({ Key: `${prefix}${key}` })), Quiet: true } }),
      );
      for (const error of result.Errors ?? []) {
        failed.push({ key: (error.Key ?? '').slice(prefix.length), reason: `${error.Code ?? 'Error'}: ${error.Message ?? ''}`.trim() });
      }
    }
    return failed;
  },
});

const directoryStore = (root: string): ScratchStore => {
  const walk = async function* (dir: string): AsyncGenerator<string> {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) yield* walk(path);
      else if (entry.isFile()) yield path;
    }
  };
  return {
    location: root,
    async *list(signal) {
      let page: ScratchObject[] = [];
      for await (const path of walk(root)) {
        signal?.throwIfAborted();
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        page.push({ key: relative(root, path).split(sep).join('/'), lastModified: info.mtime, size: info.size });
        if (page.length === PAGE_SIZE) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },
    async delete(keys) {
      const failed: { key: string; reason: string }[] = [];
      const parents = new Set<string>();
      for (const key of keys) {
        const path = resolve(root, key);
        if (!path.startsWith(`${root}${sep}`)) {
          failed.push({ key, reason: 'outside the scratch directory' });
          continue;
        }
        try {
          await rm(path, { force: true });
          parents.add(resolve(path, '..'));
        } catch (error) {
          failed.push({ key, reason: (error as NodeJS.ErrnoException).code ?? 'error' });
        }
      }
      // Emptied directories go too, deepest first, as S3 has none to leave behind.
      for (const dir of [...parents].sort((a, b) => b.length - a.length)) {
        for (let current = dir; current.startsWith(`${root}${sep}`); current = resolve(current, '..')) {
          try {
            await rmdir(current);
          } catch {
            break;
          }
        }
      }
      return failed;
    },
  };
};

/** The store for SCRATCH_LOCATION: `s3://bucket/prefix/`, a `file://` URL or a directory path. */
export const scratchStore = (location: string, s3: () => S3Client = () => new S3Client({})): ScratchStore => {
  if (location.startsWith('s3://')) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    const bucket = match?.[1];
    if (!bucket) throw new ConfigError(`SCRATCH_LOCATION "${location}" names no bucket (expected s3://bucket/prefix/)`);
    const prefix = match[2] ?? '';
    return s3Store(s3(), bucket, prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new ConfigError(`SCRATCH_LOCATION "${location}" is neither s3://bucket/prefix/ nor a directory`);
  }
  return directoryStore(resolve(location.startsWith('file://') ? fileURLToPath(location) : location));
};
