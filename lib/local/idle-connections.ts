/**
 * A loopback HTTP server whose callers may pool their connections (the AWS SDK's clients; the IAM contract's recording
 * proxy, forwarding through Node's global agent). Node's server closes a connection idle for 5 s (`keepAliveTimeout`,
 * and a second's grace), and a request sent on one as it closes fails with ECONNRESET ("socket hang up"). The SDK
 * retries that for most calls. A Python runner's Invoke is sent once (lib/python/lambda-functions.ts): when it went on
 * such a connection, its run came back only after its lease, a minute and more later, which on a loaded machine made
 * CI's `start` time out. Such a server keeps idle connections until its caller closes them or the server stops
 * (`closeAllConnections`).
 */
import type { Server } from 'node:http';

export const keepIdleConnections = <S extends Server>(server: S): S => {
  // 0: no idle limit (Node's documented value); a request in progress is still bound by the request timeouts.
  server.keepAliveTimeout = 0;
  return server;
};
