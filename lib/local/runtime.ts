/**
 * The local runtime: the whole pipeline on this machine. DynamoDB Local and the SQS emulator stand in for
 * AWS; the real handler modules run in this process, configured through the same environment variables as
 * in Lambda; event sources and schedules are emulated with the settings the stack gives them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join, resolve } from 'node:path';
import { type EngineClients, createEngine } from '../bootstrap/create-engine';
import { eventSourceChaos, withFaults, withPlanTimeouts } from '../chaos/inject';
import { asInvocation } from '../chaos/invocation';
import { Fault, type FaultPlanSpec } from '../chaos/plan';
import { ENV, loadConfig } from '../settings/config';
import type { Engine } from '../engine/engine';
import { deadLetterHandler } from '../handlers/dead-letter';
import { dispatcherHandler } from '../handlers/dispatcher';
import { systemWorkerHandler } from '../handlers/system-worker';
import { transientWorkerHandler } from '../handlers/transient-worker';
import { slug } from '../queue/queue-settings';
import { type AnyRunner, isPythonRunner, isTransientRunner } from '../runner';
import { DEAD_LETTER_FUNCTION, deadLetterSettings, dispatcherSettings } from '../settings/framework-functions';
import { createSystemServices } from '../bootstrap/system-services';
import { ServiceName } from '../engine/telemetry';
import { SqsEventSource, type SqsHandler } from './event-source';
import { type EnvironmentLease, applyEnvironment } from './process-environment';
import { type PythonFunctions, startPythonFunctions } from './python-functions';
import { DEFAULT_RUNNERS_MODULE, type LocalContainerRuns, localContainerRuns } from './container-runs';
import type { ContainerRuns } from '../engine/container-runs';
import { Compute } from '../domain/compute';
import { lambdaContext, withTimeout } from './lambda-context';
import { type LocalResources, createResources } from './resources';
import { type LocalService, localAwsEnv, localClientConfig, startLocalServices } from './services';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface Handlers {
  readonly dispatcher: Handler;
  readonly transientWorker: SqsHandler;
  readonly systemWorker: Handler;
  readonly deadLetter: SqsHandler;
}

/** createEngine's `decorate` that wraps an engine in a fault plan's faults, as host `host`; nothing without a plan. */
const withPlan = (plan: FaultPlanSpec | undefined, host: string) =>
  plan ? { decorate: (engine: Engine, clients: EngineClients) => withFaults(engine, clients, plan, host) } : {};

/**
 * The four handlers over engines of their own, as four Lambda functions would hold them, built after the
 * environment is set from the same factories the Lambda entries (functions/) use; with a fault plan, each engine
 * is wrapped in the plan's faults (the only place they are put in).
 */
export const localHandlers = (runners: readonly AnyRunner[], chaos?: FaultPlanSpec, containers?: ContainerRuns, shutdown?: AbortSignal): Handlers => {
  const config = loadConfig(process.env);
  const engineFor = (serviceName: string) => createEngine(config, { serviceName, runners, ...withPlan(chaos, serviceName), ...(containers ? { containers } : {}) });
  return {
    dispatcher: dispatcherHandler(engineFor(ServiceName.Dispatcher)) as Handler,
    transientWorker: transientWorkerHandler(engineFor(ServiceName.TransientWorker)) as SqsHandler,
    systemWorker: systemWorkerHandler(engineFor(ServiceName.SystemWorker), { ...createSystemServices(config, process.env), ...(shutdown ? { shutdown } : {}) }) as Handler,
    deadLetter: deadLetterHandler(engineFor(ServiceName.DeadLetter), config.deadLetterQueueArns) as SqsHandler,
  };
};

/**
 * The operator's side of a fault plan: it journals, meets competing writers and conflicting transactions, and runs
 * on a clock of its own; its actions die where the plan kills them (only those the chaos driver runs as
 * invocations); its reads (the observers') are never failed.
 */
const operatorPlan = (plan: FaultPlanSpec): FaultPlanSpec => ({
  ...plan,
  faults: Object.fromEntries(
    [Fault.Contention, Fault.Kill, Fault.TransactionConflict].flatMap((fault) => (plan.faults[fault] === undefined ? [] : [[fault, plan.faults[fault]]])),
  ),
});

/** The dead-letter handler's timeout: its own, or a fault plan's shorter one (as the plan shortens the runners'). */
const deadLetterTimeoutOf = (chaos: FaultPlanSpec | undefined) => Math.min(deadLetterSettings.timeoutSeconds, chaos?.timeoutSeconds ?? Number.POSITIVE_INFINITY);

export interface LocalRuntimeOptions {
  readonly runners: readonly AnyRunner[];
  readonly fixturesDir?: string;
  /** Local length of a 60 s schedule period, in ms (schedules run faster here, in proportion). */
  readonly tickMs: number;
  readonly prefix?: string;
  readonly retryBaseSeconds?: number;
  /** Already running DynamoDB Local and SQS emulator endpoints (the tests share one of each); left running on stop. */
  readonly endpoints?: { readonly dynamodb: string; readonly sqs: string };
  /**
   * A fault plan for the handlers: the chaos suite and `npm start -- --chaos SEED`. The runtime's own engine
   * (ingest, operator actions) journals and meets only the faults of the operator's side.
   */
  readonly chaos?: FaultPlanSpec;
  /** Called when stopping has waited 10 s for scheduled invocations still in flight, with their functions' names. */
  readonly onStopWait?: (functions: readonly string[]) => void;
  /** Called after every invocation of a queue's function. */
  readonly onInvocation?: (functionName: string, outcome: { records: number; failed: number; error?: Error }) => void;
  /** More environment for the handlers (e.g. the TNS stand-in's URL and bot), set before they load. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Where what the Python runners print goes. @default stderr */
  readonly onPythonOutput?: (line: string) => void;
  /** Runners scheduled although not initially enabled (as an operator would enable them). */
  readonly enable?: readonly string[];
  /** Where scratch data goes (SCRATCH_LOCATION) unless `environment` says. @default .blast-local/scratch */
  readonly scratchDir?: string;
  /**
   * Where runs' artifacts go (ARTIFACT_LOCATION) unless `environment` says. @default a folder of this runtime's own
   * under .blast-local/artifacts/, removed when it stops (its table, which says whose they are, goes with it)
   */
  readonly artifactDir?: string;
  /**
   * Loads the handlers once the environment is set; defaults to `localHandlers`. The benchmark passes esbuild
   * bundles of the Lambda entry points instead, as Lambda runs them: one module instance per function (with no
   * fault plan: the bundles carry no fault injection).
   */
  readonly loadHandlers?: () => Promise<Handlers>;
  /**
   * `module#export` of the runners, for the child processes that container runs happen in (they load the runners
   * themselves, as a Fargate task does). @default runners/registry.ts#registry
   */
  readonly runnersModule?: string;
  /** Where what container runs print goes. @default stderr */
  readonly onContainerOutput?: (line: string) => void;
}

export class LocalRuntime {
  private readonly sources: SqsEventSource[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Scheduled invocations in flight, with their function's name. */
  private readonly scheduled = new Map<Promise<unknown>, string>();
  private stopped = false;

  private constructor(
    readonly dynamodb: LocalService,
    readonly sqsService: LocalService,
    readonly resources: LocalResources,
    readonly engine: Engine,
    readonly handlers: Handlers,
    readonly sqs: SQSClient,
    private readonly options: LocalRuntimeOptions,
    /** The stand-in for the Python runners' functions, when any is registered. */
    private readonly pythonFunctions?: PythonFunctions,
    /** The child processes of container runs, when a runner has `compute: 'container'`. */
    readonly containers?: LocalContainerRuns,
    /** Aborted by `stop`: system runs still going wrap up (the recount stops waiting for its counters to settle). */
    private readonly shutdown = new AbortController(),
    /** The artifact folder this runtime made for itself, removed when it stops. */
    private readonly ownArtifactDir?: string,
    /** The variables `start` set in process.env, taken out when it stops. */
    private readonly environment?: EnvironmentLease,
  ) {}

  /** Starts the services, creates the resources, loads the handlers; nothing runs until `run()`. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const external = (endpoint: string): LocalService => ({ endpoint, stop: async () => undefined });
    const [dynamodb, sqsService] = options.endpoints
      ? [external(options.endpoints.dynamodb), external(options.endpoints.sqs)]
      : await startLocalServices();
    let pythonFunctions: PythonFunctions | undefined;
    let containers: LocalContainerRuns | undefined;
    let lease: EnvironmentLease | undefined;
    try {
      const dynamo = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
      // Many pollers share this client; the SDK's default of 50 sockets would queue them.
      const sqs = new SQSClient({ ...localClientConfig(sqsService.endpoint), requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 512 }) } });
      const runners = options.chaos ? withPlanTimeouts(options.runners, options.chaos) : options.runners;
      const resources = await createResources(dynamo, sqs, runners, options.prefix ?? 'blast', deadLetterTimeoutOf(options.chaos));
      // A Python runner in a container runs beside its run (lib/local/container-child.ts), not behind the stand-in for Lambda.
      const pythonRunners = runners.filter(isPythonRunner).filter((runner) => runner.compute !== Compute.Container);
      // Each runtime's own folder unless told: its table lives as long as it does, and another runtime's pruning
      // (a second `npm start`, the tests' runtimes side by side) must never see its runs' artifacts as no one's.
      const ownArtifacts = options.environment?.[ENV.artifactLocation] === undefined && options.artifactDir === undefined;
      if (ownArtifacts) mkdirSync(join('.blast-local', 'artifacts'), { recursive: true });
      const artifactLocation =
        options.environment?.[ENV.artifactLocation] ?? resolve(options.artifactDir ?? mkdtempSync(join('.blast-local', 'artifacts', 'run-')));
      pythonFunctions =
        pythonRunners.length > 0
          ? await startPythonFunctions(pythonRunners, options.onPythonOutput ?? ((line) => console.error(line)), { [ENV.artifactLocation]: artifactLocation })
          : undefined;
      const environment: Record<string, string> = Object.assign({}, localAwsEnv, resources.env, {
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        AWS_ENDPOINT_URL_SQS: sqsService.endpoint,
        ...(pythonFunctions ? { AWS_ENDPOINT_URL_LAMBDA: pythonFunctions.endpoint, [ENV.runnerFunctions]: JSON.stringify(pythonFunctions.functionNames) } : {}),
        [ENV.fixturesDir]: options.fixturesDir ?? 'fixtures',
        [ENV.scratchLocation]: options.scratchDir ?? join('.blast-local', 'scratch'),
        [ENV.artifactLocation]: artifactLocation,
        ...(options.retryBaseSeconds === undefined ? {} : { [ENV.retryBaseSeconds]: String(options.retryBaseSeconds) }),
        ...options.environment,
      });
      // The handlers' environment, as Lambda gives each function its own; taken out again when the runtime stops.
      lease = applyEnvironment(environment);
      if (options.chaos?.journal) writeFileSync(options.chaos.journal, '');
      const { chaos } = options;
      const shutdown = new AbortController();
      containers = runners.some((runner) => isTransientRunner(runner) && runner.compute === Compute.Container)
        ? localContainerRuns({ runnersModule: options.runnersModule ?? DEFAULT_RUNNERS_MODULE, log: options.onContainerOutput ?? ((line) => console.error(line)) })
        : undefined;
      const handlers = options.loadHandlers ? await options.loadHandlers() : localHandlers(runners, chaos, containers, shutdown.signal);
      const engine = createEngine(loadConfig(process.env), {
        serviceName: 'local-runtime',
        runners,
        dynamo,
        sqs,
        ...withPlan(chaos && operatorPlan(chaos), 'local-runtime'),
      });
      return new LocalRuntime(dynamodb, sqsService, resources, engine, handlers, sqs, { ...options, runners }, pythonFunctions, containers, shutdown, ownArtifacts ? artifactLocation : undefined, lease);
    } catch (error) {
      lease?.release();
      await Promise.all([dynamodb.stop(), sqsService.stop(), pythonFunctions?.stop(), containers?.stop()]);
      throw error;
    }
  }

  /** Runs one invocation as Lambda would: inside an invocation context when faults may kill it. */
  private invocation<T>(functionName: string, work: () => Promise<T>): Promise<T> {
    return this.options.chaos ? asInvocation(functionName, work) : work();
  }

  /** Starts every queue's event source and every enabled runner's schedule. */
  run(): void {
    const { runners, tickMs, onInvocation, chaos } = this.options;
    const faults = chaos ? eventSourceChaos(chaos) : undefined;
    for (const queue of this.resources.queues) {
      const runner = runners.find((candidate) => candidate.taskName === queue.task);
      const functionName = slug(queue.task);
      this.sources.push(
        new SqsEventSource({
          sqs: this.sqs,
          queueUrl: queue.url,
          queueArn: queue.arn,
          functionName,
          handler: this.handlers.transientWorker,
          batchSize: queue.settings.batchSize,
          maxConcurrency: queue.settings.maxConcurrency,
          timeoutMs: queue.settings.functionTimeoutSeconds * 1000,
          memoryMb: runner?.memorySize,
          onInvocation: (outcome) => onInvocation?.(functionName, outcome),
          runInvocation: (work) => this.invocation(functionName, work),
          ...(faults ? { faults } : {}),
        }),
        new SqsEventSource({
          sqs: this.sqs,
          queueUrl: queue.deadLetterUrl,
          queueArn: queue.deadLetterArn,
          functionName: DEAD_LETTER_FUNCTION,
          handler: this.handlers.deadLetter,
          batchSize: deadLetterSettings.batchSize,
          maxConcurrency: deadLetterSettings.maxConcurrency,
          timeoutMs: deadLetterTimeoutOf(chaos) * 1000,
          onInvocation: (outcome) => onInvocation?.(DEAD_LETTER_FUNCTION, outcome),
          runInvocation: (work) => this.invocation(DEAD_LETTER_FUNCTION, work),
          ...(faults ? { faults } : {}),
        }),
      );
    }
    this.sources.forEach((source) => source.start());
    const enabled = new Set(this.options.enable ?? []);
    for (const runner of runners.filter((candidate) => candidate.initiallyEnabled || enabled.has(candidate.taskName))) {
      const period = Math.max(10, Math.round((tickMs * runner.frequencySeconds) / 60));
      this.timers.push(setInterval(() => void this.tick(runner), period));
    }
  }

  /** One schedule firing: the dispatcher for a transient runner, the runner itself for a system one. */
  tick(runner: AnyRunner): Promise<unknown> {
    const event = { task: runner.taskName };
    const [functionName, timeoutMs] = isTransientRunner(runner)
      ? ['dispatcher', dispatcherSettings.timeoutSeconds * 1000]
      : [slug(runner.taskName), runner.timeoutSeconds * 1000];
    const handler = isTransientRunner(runner) ? this.handlers.dispatcher : this.handlers.systemWorker;
    // Past its timeout Lambda stops an invocation; so does a fault that kills it.
    const invocation = withTimeout(
      this.invocation(functionName, () => handler(event, lambdaContext(functionName, timeoutMs))),
      timeoutMs,
    );
    const tracked = invocation
      .catch((error: unknown) => this.engine.logger.error('scheduled invocation failed', { task: runner.taskName, error }))
      .finally(() => this.scheduled.delete(tracked));
    this.scheduled.set(tracked, functionName);
    return tracked;
  }

  /** Invokes a system runner's handler now, as its schedule would; errors reach the caller. */
  invokeSystemRunner(task: string): Promise<unknown> {
    const runner = this.options.runners.find((candidate) => candidate.taskName === task && !isTransientRunner(candidate));
    if (!runner) return Promise.reject(new Error(`no system runner "${task}" is registered`));
    return this.handlers.systemWorker({ task }, lambdaContext(slug(task), runner.timeoutSeconds * 1000, runner.memorySize));
  }

  /** The fault plan the handlers run under, if any. */
  get chaos(): FaultPlanSpec | undefined {
    return this.options.chaos;
  }

  /** Every queue's URL, dead-letter queues and the dead-letter failures queue included. */
  queueUrls(): string[] {
    return [...this.resources.queues.flatMap((queue) => [queue.url, queue.deadLetterUrl]), this.resources.deadLetterFailuresUrl];
  }

  /** Endpoints and names for the CLI and tests (`--keep-running`). */
  describe() {
    return {
      dynamodbEndpoint: this.dynamodb.endpoint,
      sqsEndpoint: this.sqsService.endpoint,
      region: localAwsEnv.AWS_REGION,
      tableName: this.resources.tableName,
      queues: Object.fromEntries(
        this.resources.queues.map((queue) => [queue.task, { url: queue.url, deadLetterUrl: queue.deadLetterUrl }]),
      ),
    };
  }

  /** Stops schedules and pollers, waits for invocations in flight, then stops the services. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.stopRunning();
    } finally {
      this.environment?.release();
    }
  }

  private async stopRunning(): Promise<void> {
    this.timers.forEach((timer) => clearInterval(timer));
    this.shutdown.abort(new Error('the local runtime is stopping'));
    const waiting = Promise.all([...this.sources.map((source) => source.stop()), ...this.scheduled.keys()]);
    // Invocations still running are waited for (up to their timeout, as Lambda would let them run): say which.
    const notice = setTimeout(() => {
      const functions = [...new Set(this.scheduled.values())];
      if (functions.length > 0) this.options.onStopWait?.(functions);
    }, 10_000);
    await waiting;
    clearTimeout(notice);
    // Container runs still going are stopped, as a cluster's tasks would be; their messages come back on the next start.
    await this.containers?.stop();
    this.sqs.destroy();
    await Promise.all([this.dynamodb.stop(), this.sqsService.stop(), this.pythonFunctions?.stop()]);
    if (this.ownArtifactDir) rmSync(this.ownArtifactDir, { recursive: true, force: true });
  }
}

