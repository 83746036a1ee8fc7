/**
 * A loopback HTTP server that the AWS SDK's clients call. Their connection pool keeps idle sockets and reuses them;
 * Node's server closes a socket idle for 5 s (its `keepAliveTimeout`), and a request sent on one as it closes fails
 * with ECONNRESET ("socket hang up"). The SDK retries that for most calls, but not a Python runner's Invoke, which is
 * sent once (lib/python/lambda-functions.ts): its run then came back only after its lease, a minute and more later.
 * On a loaded machine the window is wide enough to be met (seen in CI). Such a server keeps idle connections until
 * its caller closes them or the server stops (`closeAllConnections`).
 */
import type { Server } from 'node:http';

export const keepIdleConnections = <S extends Server>(server: S): S => {
  // 0: no idle limit (Node's documented value); a request in progress is still bound by the request timeouts.
  server.keepAliveTimeout = 0;
  return server;
};
