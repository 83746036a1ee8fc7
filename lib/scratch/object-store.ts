/**
 * Objects under one location, `s3://bucket/prefix/` in AWS or a directory here: the store behind the scratch
 * data (SCRATCH_LOCATION) and the runs' artifacts (ARTIFACT_LOCATION), so that the handlers are the same in
 * both places. Keys are relative to the location and '/'-separated.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, opendir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { ConfigError } from '../domain/errors';
import type { ArtifactStore, StoredObject } from '../engine/artifacts';

/** Objects per listed page and per DeleteObjects request (S3's maximum for both). */
const PAGE_SIZE = 1000;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes);

const s3Store = (s3: S3Client, bucket: string, root: string): ArtifactStore => ({
  location: `s3://${bucket}/${root}`,
  async put(key, bytes, contentType) {
    const hash = sha256(bytes);
    // S3 checks the bytes it received against the checksum, and keeps it with the object.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${root}${key}`, Body: bytes, ContentType: contentType, ChecksumSHA256: hash.copy().digest('base64') }),
    );
    return { key, size: bytes.byteLength, sha256: hash.digest('hex') };
  },
  async get(key) {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${root}${key}` }));
      return await object.Body?.transformToByteArray();
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  },
  async *list(prefix, signal) {
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: PAGE_SIZE }, { Bucket: bucket, Prefix: `${root}${prefix}` })) {
      signal?.throwIfAborted();
      const objects = (page.Contents ?? []).flatMap((object): StoredObject[] =>
        object.Key && object.LastModified ? [{ key: object.Key.slice(root.length), lastModified: object.LastModified, size: object.Size ?? 0 }] : [],
      );
      if (objects.length > 0) yield objects;
    }
  },
  async delete(keys) {
    const failed: { key: string; reason: string }[] = [];
    for (let i = 0; i < keys.length; i += PAGE_SIZE) {
      const group = keys.slice(i, i + PAGE_SIZE);
      const result = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: group.map((key) => ({ Key: `${root}${key}` })), Quiet: true } }),
      );
      for (const error of result.Errors ?? []) {
        failed.push({ key: (error.Key ?? '').slice(root.length), reason: `${error.Code ?? 'Error'}: ${error.Message ?? ''}`.trim() });
      }
    }
    return failed;
  },
});

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

/** A file being written, named so that no key can name it (a key's parts start with a letter or digit). */
const TEMPORARY = /^\.tmp-/;

const directoryStore = (root: string): ArtifactStore => {
  /** The file of `key`, or undefined for a key that would lead out of the directory. */
  const pathOf = (key: string) => {
    const path = resolve(root, key);
    return path.startsWith(`${root}${sep}`) ? path : undefined;
  };
  const inside = (key: string) => {
    const path = pathOf(key);
    if (!path) throw new ConfigError(`key "${key}" leads out of ${root}`);
    return path;
  };
  return {
    location: root,
    async put(key, bytes) {
      const path = inside(key);
      await mkdir(dirname(path), { recursive: true });
      // Written aside, then renamed into place: a reader sees the old file or the whole new one.
      const temporary = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}`);
      await writeFile(temporary, bytes);
      await rename(temporary, path);
      return { key, size: bytes.byteLength, sha256: sha256(bytes).digest('hex') };
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(inside(key)));
      } catch (error) {
        if (['ENOENT', 'EISDIR', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
        throw error;
      }
    },
    async *list(prefix, signal) {
      // Only the directory the prefix's complete parts name is walked.
      const start = prefix.includes('/') ? pathOf(prefix.slice(0, prefix.lastIndexOf('/'))) : root;
      if (!start) return;
      let page: StoredObject[] = [];
      for await (const path of walk(start)) {
        signal?.throwIfAborted();
        const key = relative(root, path).split(sep).join('/');
        if (!key.startsWith(prefix) || TEMPORARY.test(key.slice(key.lastIndexOf('/') + 1))) continue;
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        page.push({ key, lastModified: info.mtime, size: info.size });
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
        const path = pathOf(key);
        if (!path) {
          failed.push({ key, reason: `outside the directory ${root}` });
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

/** The store at `location` (named by the setting `setting`): `s3://bucket/prefix/`, a `file://` URL or a directory path. */
export const objectStore = (location: string, setting: string, s3: () => S3Client = () => new S3Client({})): ArtifactStore => {
  if (location.startsWith('s3://')) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    const bucket = match?.[1];
    if (!bucket) throw new ConfigError(`${setting} "${location}" names no bucket (expected s3://bucket/prefix/)`);
    const prefix = match[2] ?? '';
    return s3Store(s3(), bucket, prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new ConfigError(`${setting} "${location}" is neither s3://bucket/prefix/ nor a directory`);
  }
  return directoryStore(resolve(location.startsWith('file://') ? fileURLToPath(location) : location));
};
