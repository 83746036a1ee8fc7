/**
 * A Python runner's Invoke (lib/python/lambda-functions.ts) is sent once, so it never goes on a pooled connection: one
 * the far end closed while it sat idle (a Lambda worker frozen between invocations, an endpoint's idle limit) would
 * fail it before it reached the function, and the run would come back only after its lease, a receive spent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { localAwsEnv } from '../../lib/local/services';
import { invokeClient, lambdaRunnerFunctions } from '../../lib/python/lambda-functions';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('Python runners\' Invoke', () => {
  it('opens a connection of its own for each run', async () => {
    // Prepare: an Invoke endpoint that would keep every connection for reuse, counting them.
    let connections = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end(JSON.stringify({ status: 'processed' })));
    });
    server.keepAliveTimeout = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, localAwsEnv, { AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const functions = lambdaRunnerFunctions(invokeClient(60), { 'Host match': 'python-host-match' });
    const transient = { name: 'sn', raDeg: 1, decDeg: 2, publicTimestamp: '2026-01-01T00:00:00Z' };

    try {
      // Act
      const results = [];
      for (const runId of ['run-1', 'run-2', 'run-3']) results.push(await functions.run('Host match', { transient, attempt: 1, runId }));

      // Assess
      expect(results).toEqual([{ status: 'processed' }, { status: 'processed' }, { status: 'processed' }]);
      expect(connections).toBe(3);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
