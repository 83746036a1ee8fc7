/**
 * The container port on ECS: a run starts as one Fargate task of its runner's task definition (the stack's
 * lib/constructs/container-runner.ts), in the stack's public subnets with a public IP (no NAT gateway), with the
 * run given in its container's environment. RunTask answers once the task is placed: a refusal (capacity, a
 * missing image, a bad subnet) is thrown, so that the worker records nothing and the message comes back.
 */
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { ContainerRun, ContainerRuns } from '../engine/container-runs';
import { type ContainerTask, ENV } from '../settings/config';

/** ECS's `startedBy` takes up to 128 letters, digits, hyphens and underscores: the run's token, to find its task by. */
const startedBy = (token: string) => token.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);

export const ecsContainerRuns = (ecs: ECSClient, tasks: Readonly<Record<string, ContainerTask>>): ContainerRuns => ({
  async start(run: ContainerRun): Promise<void> {
    const task = tasks[run.task];
    if (!task) throw new Error(`no container task is configured for "${run.task}" (${ENV.containerTasks})`);
    const result = await ecs.send(
      new RunTaskCommand({
        cluster: task.cluster,
        taskDefinition: task.taskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: startedBy(run.token),
        networkConfiguration: { awsvpcConfiguration: { subnets: [...task.subnets], securityGroups: [...task.securityGroups], assignPublicIp: 'ENABLED' } },
        overrides: { containerOverrides: [{ name: task.container, environment: [{ name: ENV.containerRun, value: JSON.stringify(run) }] }] },
      }),
    );
    const failure = result.failures?.[0];
    if (failure || (result.tasks ?? []).length === 0) throw new Error(`RunTask placed no task: ${failure?.reason ?? 'no reason given'}${failure?.detail ? ` (${failure.detail})` : ''}`);
  },
});
