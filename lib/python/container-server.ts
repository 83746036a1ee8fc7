/**
 * How a container run reaches a Python runner's `_run_process`: python/blast_tasks/invoke_server.py serves the
 * runner's handler behind Lambda's Invoke on the loopback interface, beside the run (a process here, a container of
 * the Fargate task in AWS), and the run calls it by this name through the client a worker calls a Python runner's
 * function with (lib/python/lambda-functions.ts, AWS_ENDPOINT_URL_LAMBDA and RUNNER_FUNCTIONS).
 */

/** The module the Python side runs (`python -m`), here and in the Fargate task. */
export const INVOKE_SERVER_MODULE = 'blast_tasks.invoke_server';
/** The name the run calls its runner's handler by (RUNNER_FUNCTIONS), here and in the Fargate task. */
export const CONTAINER_FUNCTION_NAME = 'runner';
