/**
 * The artifact store's conformance suite: the same rules over both adapters — S3 (through the real SDK client,
 * against the S3 emulator) and a local directory. The engine, the Python runs and pruning rely on each of them.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore, StoredObject } from '../../lib/engine/artifacts';
import { localAwsEnv, localClientConfig } from '../../lib/local/services';
import { pythonEnvironment, pythonExecutable } from '../../lib/python/interpreter';
import { objectStore } from '../../lib/scratch/object-store';
import { S3Emulator } from '../helpers/s3-emulator';

let emulator: S3Emulator | undefined;
let client: S3Client | undefined;
const directories: string[] = [];
let stores = 0;

beforeAll(async () => {
  emulator = await S3Emulator.start();
  client = new S3Client({ ...localClientConfig(emulator.endpoint), forcePathStyle: true });
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const implementations: readonly (readonly [string, () => Promise<ArtifactStore>])[] = [
  [
    'on S3 (the emulator)',
    async () => {
      const bucket = `artifacts-${process.pid}-${stores++}`;
      if (!client) throw new Error('the S3 emulator did not start');
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const s3 = client;
      return objectStore(`s3://${bucket}/artifacts`, 'ARTIFACT_LOCATION', () => s3);
    },
  ],
  [
    'in a directory',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'artifact-store-'));
      directories.push(directory);
      return objectStore(directory, 'ARTIFACT_LOCATION');
    },
  ],
];

const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const listed = async (store: ArtifactStore, prefix: string) => {
  const all: StoredObject[] = [];
  for await (const page of store.list(prefix)) all.push(...page);
  return all.map(({ key, size }) => ({ key, size })).sort((a, b) => a.key.localeCompare(b.key));
};

describe.each(implementations)('Conformance: the artifact store %s', (_name, open) => {
  it('returns what was put, with its size and SHA-256', async () => {
    // Prepare
    const store = await open();
    const data = bytes('SIMPLE  =                    T');

    // Act
    const put = await store.put('2010H/Cutout%20download/run.1/cutouts/g.fits', data, 'application/fits');
    const got = await store.get('2010H/Cutout%20download/run.1/cutouts/g.fits');

    // Assess
    expect(put).toEqual({ key: '2010H/Cutout%20download/run.1/cutouts/g.fits', size: data.byteLength, sha256: hex(data) });
    expect(got && Buffer.from(got).toString('utf8')).toBe('SIMPLE  =                    T');
  });

  it('reads nothing for a key never put', async () => {
    const store = await open();
    expect(await store.get('2010H/Host%20match/run.1/missing.json')).toBeUndefined();
  });

  it('replaces what a second put of the same key wrote', async () => {
    const store = await open();
    await store.put('a/t/r/x.json', bytes('{"v":1}'), 'application/json');
    await store.put('a/t/r/x.json', bytes('{"v":22}'), 'application/json');
    expect(Buffer.from((await store.get('a/t/r/x.json')) ?? []).toString('utf8')).toBe('{"v":22}');
    expect(await listed(store, 'a/')).toEqual([{ key: 'a/t/r/x.json', size: 8 }]);
  });

  it('lists exactly the keys under a prefix, not those that merely share its start', async () => {
    // Prepare
    const store = await open();
    for (const key of ['2010H/t/r1/a', '2010H/t/r1/b/c', '2010H/t/r10/a', '2010Hx/t/r1/a']) await store.put(key, bytes(key), 'text/plain');

    // Act, Assess
    expect(await listed(store, '2010H/t/r1/')).toEqual([
      { key: '2010H/t/r1/a', size: 12 },
      { key: '2010H/t/r1/b/c', size: 14 },
    ]);
    expect((await listed(store, '2010H/')).map((object) => object.key)).toEqual(['2010H/t/r1/a', '2010H/t/r1/b/c', '2010H/t/r10/a']);
    expect(await listed(store, '')).toHaveLength(4);
    expect(await listed(store, 'nobody/')).toEqual([]);
  });

  it('deletes the keys given and no other', async () => {
    const store = await open();
    for (const key of ['s/t/old/a', 's/t/old/b', 's/t/new/a']) await store.put(key, bytes('x'), 'text/plain');

    const failed = await store.delete(['s/t/old/a', 's/t/old/b', 's/t/never/put']);

    expect(failed).toEqual([]);
    expect((await listed(store, '')).map((object) => object.key)).toEqual(['s/t/new/a']);
  });
});

describe('Function: objectStore in a directory', () => {
  it('keeps keys inside its directory and leaves no emptied directory behind', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'artifact-store-'));
    directories.push(directory);
    const store = objectStore(directory, 'ARTIFACT_LOCATION');

    await expect(store.put('../outside', bytes('x'), 'text/plain')).rejects.toThrow(/leads out of/);
    await store.put('a/b/c/d', bytes('x'), 'text/plain');
    expect(await store.delete(['a/b/c/d', '../../etc/passwd'])).toEqual([{ key: '../../etc/passwd', reason: `outside the directory ${directory}` }]);
    expect(readdirSync(directory)).toEqual([]);
  });
});

/**
 * The Python side (python/blast_tasks/context.py) writes and reads the same locations itself: boto3 under an
 * s3:// location, plain files under a directory. What it puts, the engine's store reads, and the other way round.
 */
/**
 * boto3 is in Lambda's Python runtime but not in the project's lock (the directory location needs none): an s3://
 * location is run on the project's interpreter if it has boto3, else on the system's python3 if that has it.
 */
const withBoto3 = [pythonExecutable(), 'python3'].find((python) => spawnSync(python, ['-c', 'import boto3']).status === 0);

describe.each(implementations)('Conformance: Python runs\' artifacts %s', (name, open) => {
  const python = name.startsWith('on S3') ? withBoto3 : pythonExecutable();
  it.skipIf(python === undefined)('agree with the store: a Python put reads back in TypeScript with its checksum, a TypeScript put reads in Python (skipped on S3 where no interpreter has boto3)', async () => {
    // Prepare: an upstream run's artifact, put by the engine's store
    const store = await open();
    const upstream = await store.put('sn/Cutouts/up.1/cutouts/g.fits', bytes('SIMPLE = T'), 'application/fits');
    const event = {
      transient: { name: 'sn' },
      attempt: 1,
      runId: 'py.1',
      artifacts: { location: store.location, prefix: 'sn/Photometry/py.1/', upstream: { Cutouts: [{ name: 'cutouts/g.fits', ...upstream }] } },
    };
    const script = [
      'import json, sys',
      'from blast_tasks.context import RunContext',
      'context = RunContext(json.loads(sys.argv[1]))',
      'cutout = context.artifacts.get("cutouts/g.fits", task="Cutouts")',
      'put = context.artifacts.put("photometry.csv", b"flux," + str(len(cutout)).encode(), "text/csv")',
      'print(json.dumps(context.reply("processed")))',
    ].join('\n');

    // Act
    const run = spawnSync(python ?? 'python3', ['-c', script, JSON.stringify(event)], {
      env: pythonEnvironment({ AWS_ENDPOINT_URL_S3: emulator?.endpoint ?? '', ...localAwsEnv }),
      encoding: 'utf8',
    });

    // Assess
    expect(run.stderr).toBe('');
    const reply = JSON.parse(run.stdout) as { artifacts: { key: string; size: number; sha256: string }[] };
    expect(reply).toEqual({ status: 'processed', artifacts: [{ name: 'photometry.csv', key: 'sn/Photometry/py.1/photometry.csv', size: 7, sha256: hex(bytes('flux,10')) }] });
    expect(Buffer.from((await store.get('sn/Photometry/py.1/photometry.csv')) ?? []).toString('utf8')).toBe('flux,10');
  });
});
