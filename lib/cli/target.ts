/**
 * Where the CLI's commands act: the local runtime left up by `npm start -- --keep-running` (found through
 * the endpoints file it writes) or a deployment (found from the CloudFormation outputs of its stack).
 */
import { existsSync, readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { coerceError, errorName } from '../domain/errors';
import { localClientConfig } from '../local/services';
import { DEFAULT_STATE_FILE } from '../local/start';
import { processExists } from '../python/requirements';
import { DEFAULT_STACK, StackOutput } from '../stacks/outputs';
import { CliError } from './errors';

/** How to reach the AWS SDK clients of a target. */
export interface ClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface Target {
  /** e.g. `the local runtime (.blast-local/endpoints.json)` or `stack BlastTaskRunners in eu-west-1`. */
  readonly description: string;
  readonly local: boolean;
  /** The endpoints file of a local runtime. */
  readonly stateFile?: string;
  /** How to reach the table and the queues. */
  readonly dynamodb: ClientConfig;
  readonly sqs: ClientConfig;
  readonly tableName: string;
  /** Task → URL of its runner's queue. */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Task → URL of its runner's dead-letter queue. */
  readonly deadLetterQueueUrls: Readonly<Record<string, string>>;
  readonly dashboardUrl?: string;
}

export interface TargetOptions {
  readonly stateFile: string;
  /** The user named the state file (so its absence is an error rather than a reason to look for a stack). */
  readonly stateFileGiven: boolean;
  readonly stack?: string;
  readonly region?: string;
}

const localStateSchema = z.object({
  dynamodbEndpoint: z.url(),
  sqsEndpoint: z.url(),
  region: z.string().min(1),
  tableName: z.string().min(1),
  queues: z.record(z.string(), z.object({ url: z.string().min(1), deadLetterUrl: z.string().min(1) })),
  /** The `npm start` process that wrote the file (it removes the file when it stops, unless it was killed). */
  pid: z.number().int().positive().optional(),
});

/** Whether a process with this id exists (EPERM: it does, under another user). */
const startHint = (stateFile: string) =>
  `start it with \`npm start -- --keep-running${stateFile === DEFAULT_STATE_FILE ? '' : ` --state-file ${stateFile}`}\``;

export const localTarget = (stateFile: string): Target => {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (cause) {
    throw new CliError(`no local runtime: cannot read ${stateFile} (${coerceError(cause).message}); ${startHint(stateFile)}`, { cause });
  }
  const parsed = localStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new CliError(`${stateFile} is not a local runtime's endpoints file (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  }
  const state = parsed.data;
  if (state.pid !== undefined && !processExists(state.pid)) {
    throw new CliError(`no local runtime: ${stateFile} is stale (the run that wrote it, process ${state.pid}, is gone); ${startHint(stateFile)}`);
  }
  const tasks = Object.entries(state.queues);
  return {
    description: `the local runtime (${stateFile})`,
    local: true,
    stateFile,
    dynamodb: { ...localClientConfig(state.dynamodbEndpoint), region: state.region },
    sqs: { ...localClientConfig(state.sqsEndpoint), region: state.region },
    tableName: state.tableName,
    queueUrls: Object.fromEntries(tasks.map(([task, queue]) => [task, queue.url])),
    deadLetterQueueUrls: Object.fromEntries(tasks.map(([task, queue]) => [task, queue.deadLetterUrl])),
  };
};

const urlsByTask = z.record(z.string(), z.string().min(1));

const jsonOutput = (stack: string, key: string, value: string): Record<string, string> => {
  try {
    return urlsByTask.parse(JSON.parse(value));
  } catch (cause) {
    throw new CliError(`stack "${stack}": output ${key} is not a JSON object of task name → URL`, { cause });
  }
};

/** Reads the stack's outputs and checks that they are the ones this project's stack declares. */
export const targetFromOutputs = (stack: string, region: string, outputs: readonly Output[]): Target => {
  const values = new Map(outputs.flatMap((output) => (output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [])));
  const required = (key: string) => {
    const value = values.get(key);
    if (!value) throw new CliError(`stack "${stack}" in ${region} has no output ${key}: is it this project's stack (bin/ deploys it as ${DEFAULT_STACK})?`);
    return value;
  };
  const dashboardUrl = values.get(StackOutput.DashboardUrl);
  return {
    description: `stack ${stack} in ${region}`,
    local: false,
    // Endpoints come from the SDK's own settings (AWS_ENDPOINT_URL_DYNAMODB, ...) when set.
    dynamodb: { region },
    sqs: { region },
    tableName: required(StackOutput.TableName),
    queueUrls: jsonOutput(stack, StackOutput.TaskQueueUrls, required(StackOutput.TaskQueueUrls)),
    deadLetterQueueUrls: jsonOutput(stack, StackOutput.DeadLetterQueueUrls, required(StackOutput.DeadLetterQueueUrls)),
    ...(dashboardUrl ? { dashboardUrl } : {}),
  };
};

/** Why a stack could not be read, in one line a shell user can act on. */
const stackFailure = (stack: string, region: string | undefined, thrown: unknown): string => {
  const error = coerceError(thrown);
  const where = region ? ` in ${region}` : '';
  if (errorName(error) === 'ValidationError' && /does not exist/.test(error.message)) return `stack "${stack}" does not exist${where}`;
  if (errorName(error) === 'CredentialsProviderError') return `no AWS credentials to look up stack "${stack}" (set a profile or AWS_* variables)`;
  if (/Region is missing/.test(error.message)) return `no AWS region to look up stack "${stack}" in (pass --region or set AWS_REGION)`;
  return `cannot read stack "${stack}"${where}: ${error.name}: ${error.message}`;
};

export const stackTarget = async (stack: string, region: string | undefined, client: CloudFormationClient): Promise<Target> => {
  let resolvedRegion: string | undefined;
  try {
    resolvedRegion = await client.config.region();
    const result = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const found = result.Stacks?.[0];
    if (!found) throw new CliError(`stack "${stack}" does not exist in ${resolvedRegion}`);
    return targetFromOutputs(stack, resolvedRegion, found.Outputs ?? []);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`no stack found: ${stackFailure(stack, resolvedRegion ?? region, error)}`, { cause: error });
  }
};

/**
 * The local runtime when its endpoints file exists and no stack or region was asked for; otherwise the
 * stack (`BlastTaskRunners` unless `--stack` names another).
 */
export const resolveTarget = async (
  options: TargetOptions,
  cloudFormation: (region?: string) => CloudFormationClient = (region) => new CloudFormationClient(region ? { region } : {}),
): Promise<Target> => {
  const wantsStack = options.stack !== undefined || options.region !== undefined;
  if (!wantsStack && existsSync(options.stateFile)) return localTarget(options.stateFile);
  if (!wantsStack && options.stateFileGiven) throw new CliError(`no local runtime: ${options.stateFile} does not exist; ${startHint(options.stateFile)}`);
  const client = cloudFormation(options.region);
  try {
    return await stackTarget(options.stack ?? DEFAULT_STACK, options.region, client);
  } catch (error) {
    if (wantsStack || !(error instanceof CliError)) throw error;
    throw new CliError(`${error.message}; and no local runtime (${options.stateFile} does not exist; ${startHint(options.stateFile)})`, { cause: error });
  } finally {
    client.destroy();
  }
};
