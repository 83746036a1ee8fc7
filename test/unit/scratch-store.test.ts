import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { transientOfKey } from '../../runners/scratch/prune';
import { scratchStore } from '../../lib/scratch/scratch-store';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });

describe('Function: scratchStore on S3', () => {
  beforeEach(() => s3.reset());

  it('lists the objects under the prefix page by page, with keys relative to it', async () => {
    const old = new Date('2024-01-01T00:00:00Z');
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'scratch/2010H/cutout.fits', LastModified: old, Size: 10 }], IsTruncated: true, NextContinuationToken: 't1' })
      .resolvesOnce({ Contents: [{ Key: 'scratch/2010ag/sed.h5', LastModified: old, Size: 20 }], IsTruncated: false });
    const store = scratchStore('s3://blast-scratch/scratch', () => client);

    const pages = [];
    for await (const page of store.list()) pages.push(page);

    expect(store.location).toBe('s3://blast-scratch/scratch/');
    expect(pages).toEqual([[{ key: '2010H/cutout.fits', lastModified: old, size: 10 }], [{ key: '2010ag/sed.h5', lastModified: old, size: 20 }]]);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ Bucket: 'blast-scratch', Prefix: 'scratch/' }),
      expect.objectContaining({ Bucket: 'blast-scratch', Prefix: 'scratch/', ContinuationToken: 't1' }),
    ]);
  });

  it('deletes in requests of at most 1000 keys under the prefix and reports the keys S3 refused', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'scratch/a/0', Code: 'AccessDenied', Message: 'Access Denied' }] });
    const keys = Array.from({ length: 1500 }, (_, i) => `a/${i}`);

    const failed = await scratchStore('s3://blast-scratch/scratch/', () => client).delete(keys);

    const requests = s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete?.Objects ?? []);
    expect(requests.map((objects) => objects.length)).toEqual([1000, 500]);
    expect(requests[0]?.[0]).toEqual({ Key: 'scratch/a/0' });
    expect(failed).toContainEqual({ key: 'a/0', reason: 'AccessDenied: Access Denied' });
  });
});

describe('Function: scratchStore', () => {
  it.each([['s3://'], ['https://example.org/scratch']])('refuses the location %s', (location) => {
    expect(() => scratchStore(location, () => client)).toThrow(ConfigError);
  });

  it('finds the transient a key belongs to by its first path segment', () => {
    expect(transientOfKey('2010H/cutouts/g.fits')).toBe('2010H');
    expect(transientOfKey('loose-file.txt')).toBeUndefined();
  });
});
