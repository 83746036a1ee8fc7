/**
 * The engine's RunnerFunctions port over Lambda's Invoke: a Python runner's run is one synchronous invocation of
 * its function with the transient. A function error (what `_run_process` raised, or Lambda's own: a timeout, an
 * out-of-memory) comes back as a RunnerFunctionError named after its type; the worker retries it or records the
 * runner's failed status, as for a TypeScript runner that throws. Locally the same calls reach the local
 * runtime's stand-in (AWS_ENDPOINT_URL_LAMBDA).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { z } from 'zod';
import { ConfigError } from '../domain/errors';
import { FUNCTION_TIMED_OUT, type RunnerFunctions, RunnerFunctionError } from '../engine/runner-functions';

const functionErrorSchema = z.looseObject({ errorType: z.string().optional(), errorMessage: z.string().optional() });
const resultSchema = z.looseObject({ status: z.unknown() });

/**
 * Agents that never hand a connection to a second Invoke: each connects anew (no cap, so none waits for another's
 * connection). `keepAlive` stays on for what it does to the socket, TCP keepalive, which holds a synchronous Invoke
 * open through NAT and load balancers that drop silent flows; `keepSocketAlive` refuses the pool.
 */
const ownConnections = <A extends HttpAgent>(agent: A): A => Object.assign(agent, { keepSocketAlive: () => false });
/** Each client its own (destroying a client destroys its agents' sockets). */
const invokeAgents = () => ({
  httpAgent: ownConnections(new HttpAgent({ keepAlive: true, maxSockets: Infinity })),
  httpsAgent: ownConnections(new HttpsAgent({ keepAlive: true, maxSockets: Infinity })),
});

/** How long an Invoke may take: the longest runner's timeout plus Lambda's start, so the SDK never cuts a run short. */
export const invokeClient = (longestTimeoutSeconds: number): LambdaClient =>
  new LambdaClient({
    // One attempt: a second Invoke after a timeout or a server error could run the transient twice at once. What
    // fails before the run (throttling among it) brings the message back instead (RunNotStartedError).
    maxAttempts: 1,
    retryMode: 'standard',
    // Nor is it sent on a pooled connection: one the far end closed while it sat idle (a worker frozen between
    // invocations, an endpoint's idle limit) fails the Invoke before it is read, a receive spent for nothing. A
    // connection of its own costs a handshake, against a run of seconds.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: (longestTimeoutSeconds + 15) * 1_000, ...invokeAgents() },
  });

const text = (payload: Uint8Array | undefined) => (payload ? Buffer.from(payload).toString('utf8') : '');

export const lambdaRunnerFunctions = (client: LambdaClient, functionNames: Readonly<Record<string, string>>): RunnerFunctions => ({
  async run(task, event) {
    const name = functionNames[task];
    if (!name) throw new ConfigError(`no function is configured for the Python runner "${task}" (RUNNER_FUNCTIONS)`);
    const output = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }));
    const body = text(output.Payload);
    if (output.FunctionError) {
      let parsed: z.infer<typeof functionErrorSchema> = {};
      try {
        parsed = functionErrorSchema.parse(JSON.parse(body));
      } catch {
        parsed = { errorMessage: body.slice(0, 500) };
      }
      const message = parsed.errorMessage ?? 'the function failed and said nothing';
      // Lambda has also reported a timeout with a message alone ("... Task timed out after 3.00 seconds").
      const type = parsed.errorType ?? (/Task timed out after/.test(message) ? FUNCTION_TIMED_OUT : output.FunctionError);
      throw new RunnerFunctionError(type, message);
    }
    let result: unknown;
    try {
      result = JSON.parse(body);
    } catch {
      throw new RunnerFunctionError('InvalidResult', `the function returned what is not JSON: ${JSON.stringify(body.slice(0, 200))}`);
    }
    const parsed = resultSchema.safeParse(result);
    if (!parsed.success) throw new RunnerFunctionError('InvalidResult', `the function returned ${JSON.stringify(result)?.slice(0, 200)}, not {"status": ...}`);
    return parsed.data;
  },
});
