/**
 * A Python runner's Invoke (lib/python/lambda-functions.ts) is sent once, so it never goes on a pooled connection: one
 * the far end closed while it sat idle (a Lambda worker frozen between invocations, an endpoint's idle limit) would
 * fail it before it reached the function, and the run would come back only after its lease, a receive spent. Its
 * socket keeps TCP keepalive, so a long silent Invoke is not dropped on the way (read from the kernel: Linux).
 */
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { localAwsEnv } from '../../lib/local/services';
import { invokeClient, lambdaRunnerFunctions } from '../../lib/python/lambda-functions';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const transient = { name: 'sn', raDeg: 1, decDeg: 2, publicTimestamp: '2026-01-01T00:00:00Z' };

/**
 * An Invoke endpoint that would keep every connection for reuse, counting them; it answers once `holdFor` requests
 * are in (a client that made some wait for a connection would never get there).
 */
const invokeEndpoint = async (holdFor = 1) => {
  const held: ServerResponse[] = [];
  const connections: Socket[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      held.push(response);
      if (held.length >= holdFor) for (const waiting of held.splice(0)) waiting.end(JSON.stringify({ status: 'processed' }));
    });
  });
  server.keepAliveTimeout = 0;
  server.on('connection', (socket: Socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(process.env, localAwsEnv, { AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}` });
  return {
    port,
    connections,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

/**
 * The kernel's timer of each established client socket connected to this loopback port, from /proc/net/tcp ("02" a
 * keepalive timer, "01" a retransmission, "00" none).
 */
const clientTimers = (port: number): string[] => {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2] === remote && fields[3] === '01')
    .map((fields) => (fields[5] ?? '').split(':')[0] ?? '');
};

const waitUntil = async (done: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe("Python runners' Invoke", () => {
  it('opens a connection of its own for each run', async () => {
    // Prepare
    const endpoint = await invokeEndpoint();
    const client = invokeClient(60);
    const functions = lambdaRunnerFunctions(client, { 'Host match': 'python-host-match' });

    try {
      // Act
      const results = [];
      for (const runId of ['run-1', 'run-2', 'run-3']) results.push(await functions.run('Host match', { transient, attempt: 1, runId }));

      // Assess
      expect(results).toEqual([{ status: 'processed' }, { status: 'processed' }, { status: 'processed' }]);
      expect(endpoint.connections).toHaveLength(3);
      // Its https agent, for Lambda's own endpoint, is of the same kind: TCP keepalive, no pool, no cap.
      const { httpAgent, httpsAgent } = (client.config.requestHandler as NodeHttpHandler).httpHandlerConfigs();
      expect(httpAgent).toBeInstanceOf(HttpAgent);
      expect(httpsAgent).toBeInstanceOf(HttpsAgent);
      for (const agent of [httpAgent, httpsAgent] as HttpAgent[]) {
        expect(agent).toMatchObject({ keepAlive: true, maxSockets: Infinity });
        expect(agent.keepSocketAlive(new Socket())).toBe(false);
      }
    } finally {
      client.destroy();
      await endpoint.stop();
    }
  });

  it('never makes one Invoke wait for the connection of another, however many run at once', async () => {
    // Prepare: past Node's and the SDK's default of 50 connections to one host.
    const count = 60;
    const endpoint = await invokeEndpoint(count);
    const client = invokeClient(60);
    const functions = lambdaRunnerFunctions(client, { 'Host match': 'python-host-match' });

    try {
      // Act
      const results = await Promise.all(Array.from({ length: count }, (_, index) => functions.run('Host match', { transient, attempt: 1, runId: `run-${index}` })));

      // Assess
      expect(results.filter((result) => result.status === 'processed')).toHaveLength(count);
      expect(endpoint.connections).toHaveLength(count);
    } finally {
      client.destroy();
      await endpoint.stop();
    }
  });

  it('waits for its answer on a socket with TCP keepalive on', async () => {
    // Prepare: an endpoint that answers only once two Invokes are in, so the first sits silent meanwhile.
    const endpoint = await invokeEndpoint(2);
    const client = invokeClient(60);
    const functions = lambdaRunnerFunctions(client, { 'Host match': 'python-host-match' });

    try {
      // Act
      const first = functions.run('Host match', { transient, attempt: 1, runId: 'run-1' });
      await waitUntil(() => endpoint.connections.length === 1 && clientTimers(endpoint.port).filter((timer) => timer !== '01').length === 1);
      const timers = clientTimers(endpoint.port);
      await functions.run('Host match', { transient, attempt: 1, runId: 'run-2' });
      await first;

      // Assess: the kernel's keepalive timer (02) runs on the waiting socket; none (00) without SO_KEEPALIVE.
      expect(timers).toEqual(['02']);
    } finally {
      client.destroy();
      await endpoint.stop();
    }
  });
});
