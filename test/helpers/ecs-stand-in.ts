/**
 * ECS's RunTask, and nothing else of ECS, on a loopback port, for a local deployment's container runs: the JSON 1.1
 * protocol the SDK speaks (X-Amz-Target `AmazonEC2ContainerServiceV20141113.RunTask`), ECS's refusals of what it
 * cannot run (an unknown cluster or task definition, Fargate without the awsvpc network or with an unknown subnet or
 * security group, an override of a container the definition lacks, a `startedBy` ECS would refuse), and, for a
 * request it accepts, a task ARN in its answer and the task started by `launch`, as ECS places it. IAM is not
 * checked here: the caller's calls are recorded in front of it, and the IAM contract checks them.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { z } from 'zod';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

export interface EcsCluster {
  readonly name: string;
  readonly arn: string;
}

export interface EcsTaskDefinition {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly containerNames: readonly string[];
  readonly requiresFargate: boolean;
}

/** What RunTask was asked to start, once ECS accepted it. */
export interface AcceptedRunTask {
  readonly taskArn: string;
  readonly cluster: EcsCluster;
  readonly definition: EcsTaskDefinition;
  readonly startedBy?: string;
  /** Container name → its environment overrides. */
  readonly environmentOverrides: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly taskRoleArn?: string;
  readonly executionRoleArn?: string;
}

export interface EcsStandInOptions {
  readonly region: string;
  readonly account: string;
  readonly clusters: readonly EcsCluster[];
  readonly taskDefinitions: readonly EcsTaskDefinition[];
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  /** Starts the accepted task (its containers). */
  readonly launch: (task: AcceptedRunTask) => void;
}

const runTaskRequest = z.looseObject({
  cluster: z.string().optional(),
  taskDefinition: z.string(),
  launchType: z.enum(['FARGATE', 'EC2', 'EXTERNAL']).optional(),
  count: z.number().int().optional(),
  startedBy: z.string().optional(),
  networkConfiguration: z
    .looseObject({
      awsvpcConfiguration: z.looseObject({ subnets: z.array(z.string()), securityGroups: z.array(z.string()).optional(), assignPublicIp: z.enum(['ENABLED', 'DISABLED']).optional() }),
    })
    .optional(),
  overrides: z
    .looseObject({
      containerOverrides: z
        .array(z.looseObject({ name: z.string(), environment: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional() }))
        .optional(),
      taskRoleArn: z.string().optional(),
      executionRoleArn: z.string().optional(),
    })
    .optional(),
});

class EcsError extends Error {
  constructor(
    readonly type: 'ClientException' | 'ClusterNotFoundException' | 'InvalidParameterException' | 'UnknownOperationException',
    message: string,
  ) {
    super(message);
  }
}

export class EcsStandIn {
  /** Every task it started, in order. */
  readonly tasks: AcceptedRunTask[] = [];

  private constructor(
    private readonly options: EcsStandInOptions,
    private readonly server: ReturnType<typeof createServer>,
    readonly endpoint: string,
  ) {}

  static start(options: EcsStandInOptions): Promise<EcsStandIn> {
    let standIn: EcsStandIn | undefined;
    const server = createServer((incoming, outgoing) => {
      standIn?.handle(incoming, outgoing).catch((error: unknown) => outgoing.writeHead(500).end(String(error)));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (!address || typeof address === 'string') return reject(new Error('the ECS stand-in has no port'));
        standIn = new EcsStandIn(options, server, `http://127.0.0.1:${address.port}`);
        resolve(standIn);
      });
    });
  }

  private async handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const target = String(incoming.headers['x-amz-target'] ?? '');
    const answer = (status: number, body: unknown, errorType?: string) =>
      outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) }).end(JSON.stringify(body));
    try {
      if (target !== `${TARGET_PREFIX}RunTask`) throw new EcsError('UnknownOperationException', `this ECS stand-in serves RunTask only, not ${target}`);
      answer(200, this.runTask(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
    } catch (error) {
      if (!(error instanceof EcsError)) throw error;
      answer(400, { __type: error.type, message: error.message }, error.type);
    }
  }

  private runTask(body: unknown) {
    const parsed = runTaskRequest.safeParse(body);
    if (!parsed.success) throw new EcsError('InvalidParameterException', parsed.error.message);
    const request = parsed.data;
    const { region, account } = this.options;
    const clusterId = request.cluster ?? 'default';
    const cluster = this.options.clusters.find((candidate) => candidate.name === clusterId || candidate.arn === clusterId);
    if (!cluster) throw new EcsError('ClusterNotFoundException', 'Cluster not found.');
    const definition = this.findDefinition(request.taskDefinition);
    if (!definition) throw new EcsError('ClientException', 'Unable to describe task definition.');
    if ((request.count ?? 1) !== 1) throw new EcsError('InvalidParameterException', 'This stand-in starts one task per call.');
    if (definition.requiresFargate && request.launchType !== 'FARGATE') throw new EcsError('InvalidParameterException', 'Task definition does not support launch_type ' + String(request.launchType ?? 'EC2') + '.');
    const network = request.networkConfiguration?.awsvpcConfiguration;
    if (!network || network.subnets.length === 0) throw new EcsError('InvalidParameterException', 'Network Configuration must be provided when networkMode \'awsvpc\' is specified.');
    const unknownSubnet = network.subnets.find((subnet) => !this.options.subnets.includes(subnet));
    if (unknownSubnet) throw new EcsError('InvalidParameterException', `Error retrieving subnet information for [${unknownSubnet}]: The subnet ID '${unknownSubnet}' does not exist`);
    const unknownGroup = (network.securityGroups ?? []).find((group) => !this.options.securityGroups.includes(group));
    if (unknownGroup) throw new EcsError('InvalidParameterException', `Error retrieving security group information for [${unknownGroup}]: The security group '${unknownGroup}' does not exist`);
    if (request.startedBy !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(request.startedBy)) throw new EcsError('InvalidParameterException', 'startedBy must be up to 128 letters, numbers, hyphens and underscores.');
    const overrides = request.overrides?.containerOverrides ?? [];
    const stranger = overrides.find((override) => !definition.containerNames.includes(override.name));
    if (stranger) throw new EcsError('InvalidParameterException', `Override for container named ${stranger.name} is not a container in the TaskDefinition.`);

    const taskArn = `arn:aws:ecs:${region}:${account}:task/${cluster.name}/${randomBytes(16).toString('hex')}`;
    const task: AcceptedRunTask = {
      taskArn,
      cluster,
      definition,
      ...(request.startedBy === undefined ? {} : { startedBy: request.startedBy }),
      environmentOverrides: new Map(overrides.map((override) => [override.name, Object.fromEntries((override.environment ?? []).map(({ name, value }) => [name, value]))])),
      ...(request.overrides?.taskRoleArn ? { taskRoleArn: request.overrides.taskRoleArn } : {}),
      ...(request.overrides?.executionRoleArn ? { executionRoleArn: request.overrides.executionRoleArn } : {}),
    };
    this.tasks.push(task);
    this.options.launch(task);
    return {
      tasks: [
        {
          taskArn,
          clusterArn: cluster.arn,
          taskDefinitionArn: definition.arn,
          launchType: 'FARGATE',
          lastStatus: 'PROVISIONING',
          desiredStatus: 'RUNNING',
          ...(request.startedBy === undefined ? {} : { startedBy: request.startedBy }),
          containers: definition.containerNames.map((name) => ({ name, taskArn, lastStatus: 'PENDING' })),
        },
      ],
      failures: [],
    };
  }

  /** A task definition by family (its latest revision), family:revision or ARN. */
  private findDefinition(id: string): EcsTaskDefinition | undefined {
    return this.options.taskDefinitions.find(
      (definition) => definition.arn === id || definition.family === id || `${definition.family}:${definition.revision}` === id,
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
