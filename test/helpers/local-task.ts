/**
 * One ECS task run here as ECS's agent runs it, its containers as processes of this machine instead of images:
 * each container starts once its dependencies hold (START: the other started; COMPLETE: it exited; SUCCESS: it
 * exited 0; HEALTHY: its health check passed, first checked one interval after its start, as Docker does), with
 * its entry point and command and its environment as given; the task stops when an essential container exits
 * (the others get SIGTERM, then SIGKILL after their stop timeout), or when no container is left running and none can
 * start. Each volume is a folder of its own, and a container sees it where it mounts it: the mount's path is
 * replaced by the folder's in the container's arguments and environment (no image, so no file system of its own;
 * a read-only mount is not enforced). Each container's output is kept line by line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DependencyCondition = 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';

export interface LocalContainerSpec {
  readonly name: string;
  readonly essential: boolean;
  /** Entry point and command, joined as Docker joins them. */
  readonly argv: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly mountPoints: readonly { readonly sourceVolume: string; readonly containerPath: string }[];
  readonly dependsOn: readonly { readonly containerName: string; readonly condition: DependencyCondition }[];
  /** Docker's health check (`CMD` or `CMD-SHELL`). */
  readonly healthCheck?: { readonly command: readonly string[]; readonly intervalSeconds: number; readonly timeoutSeconds: number; readonly retries: number };
  readonly stopTimeoutSeconds: number;
}

export interface LocalContainer {
  readonly name: string;
  readonly output: string[];
  /** Set once it started. */
  startedAt?: number;
  healthy: boolean;
  /** Its exit code (or the signal that ended it) once it exited; `skipped` if it never started (a dependency failed). */
  exit?: number | NodeJS.Signals | 'skipped';
}

/** Where a container path lies in the volumes' folders: every mount's path replaced by its folder, at a path boundary. */
const mapMounts = (text: string, mounts: readonly { containerPath: string; folder: string }[]): string =>
  mounts.reduce((mapped, { containerPath, folder }) => mapped.replace(new RegExp(`(?<![\\w./-])${containerPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|[\\s'"])`, 'g'), folder), text);

export class LocalTask {
  readonly containers: ReadonlyMap<string, LocalContainer>;
  /** Resolves when the task has stopped, with ECS's reason. */
  readonly stopped: Promise<string>;
  private readonly processes = new Map<string, ChildProcess>();
  /** Each container's mounts: its path in the container, the volume's folder here. */
  private readonly mounts: ReadonlyMap<string, readonly { containerPath: string; folder: string }[]>;
  private readonly folders: string[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping?: string;
  private resolveStopped!: (reason: string) => void;

  constructor(
    readonly taskArn: string,
    readonly specs: readonly LocalContainerSpec[],
    volumes: readonly string[],
  ) {
    const folders = new Map(volumes.map((volume) => [volume, mkdtempSync(join(tmpdir(), `ecs-task-${volume}-`))]));
    this.folders = [...folders.values()];
    this.containers = new Map(specs.map((spec) => [spec.name, { name: spec.name, output: [], healthy: false }]));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.mounts = new Map(
      specs.map((spec) => [
        spec.name,
        spec.mountPoints.map((mount) => {
          const folder = folders.get(mount.sourceVolume);
          if (!folder) throw new Error(`${taskArn}: container ${spec.name} mounts ${mount.sourceVolume}, which the task definition does not declare`);
          return { containerPath: mount.containerPath, folder };
        }),
      ]),
    );
    this.advance();
  }

  private container(name: string): LocalContainer {
    const found = this.containers.get(name);
    if (!found) throw new Error(`${this.taskArn}: no container ${name}`);
    return found;
  }

  /** Whether a dependency holds now (true), may still (undefined), or never will (false). */
  private holds(dependency: LocalContainerSpec['dependsOn'][number]): boolean | undefined {
    const other = this.container(dependency.containerName);
    if (other.exit === 'skipped') return false;
    switch (dependency.condition) {
      case 'START':
        return other.startedAt !== undefined || undefined;
      case 'COMPLETE':
        return other.exit !== undefined || undefined;
      case 'SUCCESS':
        return other.exit === undefined ? undefined : other.exit === 0;
      case 'HEALTHY':
        return other.healthy || (other.exit === undefined ? undefined : false);
    }
  }

  /** Starts what can start, skips what never can, and stops the task when nothing is left to run. */
  private advance(): void {
    if (this.stopping) return;
    for (const spec of this.specs) {
      const container = this.container(spec.name);
      if (container.startedAt !== undefined || container.exit !== undefined) continue;
      const states = spec.dependsOn.map((dependency) => this.holds(dependency));
      if (states.some((state) => state === false)) {
        container.exit = 'skipped';
        container.output.push(`(not started: a dependency of ${spec.name} can no longer be met)`);
        if (spec.essential) return void this.stop(`Essential container ${spec.name} could not start: a dependency failed`);
        continue;
      }
      if (states.every((state) => state === true)) this.start(spec, container);
    }
    const settled = [...this.containers.values()].every((container) => container.exit !== undefined);
    if (settled) void this.stop('Every container has exited');
  }

  private start(spec: LocalContainerSpec, container: LocalContainer): void {
    const mounts = this.mounts.get(spec.name) ?? [];
    const [file, ...args] = spec.argv.map((arg) => mapMounts(arg, mounts));
    if (!file) throw new Error(`${this.taskArn}: container ${spec.name} has neither an entry point nor a command`);
    const environment = Object.fromEntries(Object.entries(spec.environment).map(([name, value]) => [name, mapMounts(value, mounts)]));
    // Its own process group, so that stopping it reaches what its shell started.
    const child = spawn(file, args, { cwd: mounts[0]?.folder ?? tmpdir(), env: environment, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    container.startedAt = Date.now();
    this.processes.set(spec.name, child);
    let partial = '';
    const collect = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      container.output.push(...lines.filter((line) => line.trim() !== ''));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = (exit: number | NodeJS.Signals) => {
      if (container.exit !== undefined) return;
      if (partial.trim() !== '') container.output.push(partial);
      container.exit = exit;
      this.processes.delete(spec.name);
      if (spec.essential) void this.stop(`Essential container in task exited (${spec.name}: ${String(exit)})`);
      else this.advance();
    };
    // A command not found exits 127, as a shell reports it.
    child.on('error', (error) => {
      container.output.push(`(${error.message})`);
      if (child.pid === undefined) exited(127);
    });
    child.on('close', (code, signal) => exited(code ?? signal ?? 1));
    if (spec.healthCheck) this.checkHealth(spec.healthCheck, container, environment, mounts);
    this.advance();
  }

  private checkHealth(check: NonNullable<LocalContainerSpec['healthCheck']>, container: LocalContainer, environment: Record<string, string>, mounts: readonly { containerPath: string; folder: string }[]): void {
    const [kind, ...rest] = check.command.map((arg) => mapMounts(arg, mounts));
    const argv = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : rest;
    let failures = 0;
    let timer: NodeJS.Timeout;
    const probe = () => {
      this.timers.delete(timer);
      if (this.stopping || container.exit !== undefined || container.healthy) return;
      const [file = 'false', ...args] = argv;
      const child = spawn(file, args, { env: environment, stdio: 'ignore', timeout: check.timeoutSeconds * 1000 });
      child.on('error', () => undefined);
      child.on('close', (code) => {
        if (code === 0) {
          container.healthy = true;
          return this.advance();
        }
        // Unhealthy after `retries` failures in a row; it keeps being checked, as Docker does.
        if (++failures === check.retries) container.output.push(`(unhealthy: its health check failed ${failures} times)`);
        schedule();
      });
    };
    const schedule = () => {
      timer = setTimeout(probe, check.intervalSeconds * 1000);
      this.timers.add(timer);
    };
    schedule();
  }

  /** Stops the task as ECS does: SIGTERM to every running container, SIGKILL after its stop timeout. */
  stop(reason = 'Task stopped by the deployment'): Promise<string> {
    if (!this.stopping) {
      this.stopping = reason;
      this.timers.forEach((timer) => clearTimeout(timer));
      const running = [...this.processes].map(
        ([name, child]) =>
          new Promise<void>((resolve) => {
            child.once('close', () => resolve());
            const signal = (which: NodeJS.Signals) => {
              if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
              try {
                process.kill(-child.pid, which);
              } catch {
                // The group is gone already.
              }
            };
            signal('SIGTERM');
            const timeout = this.specs.find((spec) => spec.name === name)?.stopTimeoutSeconds ?? 30;
            setTimeout(() => signal('SIGKILL'), timeout * 1000).unref();
          }),
      );
      void Promise.all(running).then(() => {
        this.folders.forEach((folder) => rmSync(folder, { recursive: true, force: true }));
        this.resolveStopped(reason);
      });
    }
    return this.stopped;
  }
}
