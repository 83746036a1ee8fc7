/**
 * The loopback servers a Python runner's Invoke goes through keep an idle connection open: what forwards to them (the
 * recording proxy, Node's global agent) reuses it, and the Invoke is sent once, so a connection closed as it was reused
 * lost the run until its lease ended. Node's default closes one after 5 s idle (and a second's grace); these are asked
 * again after 8.
 */
import { type Socket, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { servePythonFunctions } from '../../lib/local/python-functions';
import { startRecordingProxy } from '../helpers/aws-call-recorder';

/** Past Node's default keep-alive timeout (5 s) and the second of grace it adds. */
const IDLE_MS = 8_000;

/** A pooled connection as the SDK holds one: a request, its whole answer, then nothing. */
class PooledConnection {
  private received = '';
  closedByServer = false;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString()));
    socket.on('close', () => (this.closedByServer = true));
  }

  static open(endpoint: string): Promise<PooledConnection> {
    const { hostname, port } = new URL(endpoint);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new PooledConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends an Invoke of a function no one serves and waits for its status line and body (a 404). */
  async invokeUnknown(): Promise<string> {
    this.received = '';
    this.socket.write('POST /2015-03-31/functions/nobody/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}');
    const deadline = Date.now() + 5_000;
    while (!this.answered() && !this.closedByServer && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.received.split('\r\n')[0] ?? '';
  }

  /** The whole answer is in: its body as long as its Content-Length says, or a chunked body's last chunk. */
  private answered(): boolean {
    const end = this.received.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const length = /^content-length: *(\d+)/im.exec(this.received.slice(0, end))?.[1];
    const body = this.received.slice(end + 4);
    return length === undefined ? body.endsWith('0\r\n\r\n') : Buffer.byteLength(body) >= Number(length);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('loopback servers of a Python runner\'s Invoke', () => {
  it('keep a connection that has been idle past Node\'s default, and answer on it again', async () => {
    // Prepare: the functions' stand-in, and the IAM contract's recording proxy in front of it.
    const functions = await servePythonFunctions([], () => undefined);
    const proxy = await startRecordingProxy('lambda', functions.endpoint);
    try {
      const connections = await Promise.all([PooledConnection.open(functions.endpoint), PooledConnection.open(proxy.endpoint)]);
      for (const connection of connections) expect(await connection.invokeUnknown()).toBe('HTTP/1.1 404 Not Found');

      // Act
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));

      // Assess
      expect(connections.map((connection) => connection.closedByServer)).toEqual([false, false]);
      for (const connection of connections) expect(await connection.invokeUnknown()).toBe('HTTP/1.1 404 Not Found');
      connections.forEach((connection) => connection.close());
    } finally {
      await proxy.stop();
      await functions.stop();
    }
  }, 30_000);
});
