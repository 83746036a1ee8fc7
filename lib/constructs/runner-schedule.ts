/**
 * A runner's EventBridge schedule (Blast's periodic task): at the runner's frequency, enabled as the
 * runner says, passing `{"task": <taskName>}` (lib/domain/messages.ts scheduleEventSchema) to its target.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { isScheduleRate } from '../domain/limits';
import type { ScheduleEvent } from '../domain/messages';
import type { AnyRunner } from '../runner';

export interface RunnerScheduleProps {
  /** The runner whose frequency and initial state the schedule takes. */
  readonly runner: AnyRunner;
  /** The dispatcher for a transient runner, the runner's own function for a system runner. */
  readonly target: IFunction;
}

export class RunnerSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, { runner, target }: RunnerScheduleProps) {
    super(scope, id);
    const { frequencySeconds, taskName } = runner;
    if (!isScheduleRate(frequencySeconds)) {
      throw new Error(`${this.node.path}: frequencySeconds ${frequencySeconds} is not a whole number of minutes, which EventBridge rates need`);
    }
    const event: ScheduleEvent = { task: taskName };
    this.rule = new Rule(this, 'Rule', {
      description: `Runs "${taskName}" every ${frequencySeconds / 60} min`,
      schedule: Schedule.rate(Duration.minutes(frequencySeconds / 60)),
      enabled: runner.initiallyEnabled,
      targets: [new LambdaFunction(target, { event: RuleTargetInput.fromObject(event) })],
    });
  }
}
