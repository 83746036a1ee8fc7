/**
 * The scratch data (cutouts, intermediate files) and the runs' artifacts: an S3 bucket that is encrypted,
 * reachable over TLS only, never public, with the scratch data under one prefix and the artifacts under another. Pruning deletes what no unfinished transient needs; a
 * lifecycle rule is the safety net for whatever pruning leaves. A function that uses the scratch data gets
 * SCRATCH_LOCATION and exactly the S3 actions its runner's `scratchAccess` names, on that prefix only.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { PRIVATE_BUCKET } from './private-bucket';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { RETENTION_SECONDS } from '../queue/queue-settings';
import { ScratchAccess } from '../runner';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { artifactKeySegment } from '../domain/artifacts';
import type { HandlerFunction } from './handler-function';

/** The S3 action each kind of scratch access performs (`list` is granted on the bucket, the rest on objects). */
export const SCRATCH_ACTIONS: Readonly<Record<ScratchAccess, string>> = {
  [ScratchAccess.List]: 's3:ListBucket',
  [ScratchAccess.Read]: 's3:GetObject',
  [ScratchAccess.Write]: 's3:PutObject',
  // DeleteObjects, which pruning calls, is authorised per object as DeleteObject.
  [ScratchAccess.Delete]: 's3:DeleteObject',
};

/** No task message outlives its queue's retention, so no run can still need scratch data older than that. */
const DEFAULT_EXPIRY = Duration.seconds(RETENTION_SECONDS);

/** What a function does with the runs' artifacts, and the S3 actions it takes (`list` on the bucket, the rest on objects). */
export const ArtifactAccess = {
  /** A run's own artifacts (and a spilled output): PutObject, under its own task's keys only. */
  WriteOwnTask: 's3:PutObject',
  /** Any run's artifacts, as later tasks read them: GetObject. */
  Read: 's3:GetObject',
  /** Pruning: ListBucket under the artifact prefix. */
  List: 's3:ListBucket',
  /** Pruning (DeleteObjects is authorised per object as DeleteObject). */
  Delete: 's3:DeleteObject',
} as const;
export type ArtifactAccess = (typeof ArtifactAccess)[keyof typeof ArtifactAccess];

/** What reaches the artifacts: a role, and where its code's environment is set (a function's, a container's). */
export interface ArtifactGrantee {
  readonly role: IRole;
  addEnvironment(name: string, value: string): void;
}

/** A Lambda function's role and environment. */
export const functionGrantee = (fn: { readonly role: IRole; readonly function: LambdaFunction }): ArtifactGrantee => ({
  role: fn.role,
  addEnvironment: (name, value) => {
    fn.function.addEnvironment(name, value);
  },
});

const SAFE_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/;

export interface ScratchBucketProps {
  /** Where the scratch data lives in the bucket: a key prefix ending in `/`. @default 'scratch/' */
  readonly prefix?: string;
  /**
   * Where the runs' artifacts live in the bucket: a key prefix ending in `/`, outside the scratch prefix (whose
   * expiry and pruning must not reach them). @default 'artifacts/'
   */
  readonly artifactPrefix?: string;
  /** Age at which S3 deletes a scratch object that pruning left behind. @default 14 days, the queues' retention */
  readonly expireAfter?: Duration;
  /** What happens to the bucket when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class ScratchBucket extends Construct {
  readonly bucket: Bucket;
  /** The key prefix of the scratch data, ending in `/`. */
  readonly prefix: string;
  /** `s3://<bucket>/<prefix>`: SCRATCH_LOCATION. */
  readonly location: string;
  /** The key prefix of the runs' artifacts, ending in `/`. */
  readonly artifactPrefix: string;
  /** `s3://<bucket>/<artifact prefix>`: ARTIFACT_LOCATION. */
  readonly artifactLocation: string;

  constructor(scope: Construct, id: string, props: ScratchBucketProps = {}) {
    super(scope, id);
    const prefix = props.prefix ?? 'scratch/';
    const artifactPrefix = props.artifactPrefix ?? 'artifacts/';
    for (const [name, value, example] of [['prefix', prefix, 'scratch/'], ['artifactPrefix', artifactPrefix, 'artifacts/']]) {
      if (!SAFE_PREFIX.test(value ?? '')) throw new Error(`${this.node.path}: ${name} "${value}" must be one or more safe key segments ending in "/", e.g. "${example}"`);
    }
    if (artifactPrefix.startsWith(prefix) || prefix.startsWith(artifactPrefix)) {
      throw new Error(`${this.node.path}: artifactPrefix "${artifactPrefix}" and prefix "${prefix}" overlap; the scratch data's expiry and pruning would reach the artifacts`);
    }
    this.artifactPrefix = artifactPrefix;
    const expiry = props.expireAfter ?? DEFAULT_EXPIRY;
    if (expiry.toDays({ integral: false }) < 1 || !Number.isInteger(expiry.toDays({ integral: false }))) {
      throw new Error(`${this.node.path}: expireAfter must be a whole number of days (S3 lifecycle rules count days), not ${expiry.toHumanString()}`);
    }
    this.prefix = prefix;
    this.bucket = new Bucket(this, 'Bucket', {
      // Unversioned among the rest: a pruned object is gone, not kept as a noncurrent version.
      ...PRIVATE_BUCKET,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-scratch-data', prefix, expiration: expiry },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Scratch data is disposable intermediate output that only the stack\'s own function roles can reach (no public access, TLS only); server access logs would need a second bucket and would outgrow the data they describe.',
    });
    this.location = `s3://${this.bucket.bucketName}/${prefix}`;
    this.artifactLocation = `s3://${this.bucket.bucketName}/${artifactPrefix}`;
  }

  /**
   * Lets `grantee` (a function's role) take `access` on the runs' artifacts and passes ARTIFACT_LOCATION. Writing is
   * allowed only under `task`'s own keys (`<artifact prefix>*\/<task>/*`: keys are `<transient>/<task>/<run>/<name>`),
   * reading and deleting anywhere under the artifact prefix, listing only with the prefix as `s3:prefix`.
   */
  grantArtifacts(grantee: ArtifactGrantee, access: readonly ArtifactAccess[], owner: string, task?: string): void {
    if (access.length === 0) return;
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const onObjects = (actions: readonly string[], pattern: string, reason: string) => {
      if (actions.length === 0) return;
      grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions].sort(), resources: [this.bucket.arnForObjects(pattern)] }));
      Validations.of(grantee.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`, reason });
    };
    if (access.includes(ArtifactAccess.WriteOwnTask)) {
      if (task === undefined) throw new Error(`${this.node.path}: ${owner} writes artifacts, so its task must be named (its writes are limited to that task's keys)`);
      onObjects(
        [ArtifactAccess.WriteOwnTask],
        `${this.artifactPrefix}*/${artifactKeySegment(task)}/*`,
        `${owner} writes the artifacts of its own task's runs, whose transient and run id it learns at run time; the grant covers that task's keys and nothing else.`,
      );
    }
    onObjects(
      access.filter((what) => what === ArtifactAccess.Read || what === ArtifactAccess.Delete),
      `${this.artifactPrefix}*`,
      `${owner} reads or prunes runs' artifacts, whose keys (<transient>/<task>/<run>/<name>) it learns at run time; the grant covers the artifact prefix and nothing else in the bucket.`,
    );
    if (access.includes(ArtifactAccess.List)) {
      grantee.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: [ArtifactAccess.List], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${this.artifactPrefix}*`] } } }),
      );
    }
    grantee.addEnvironment(ENV.artifactLocation, this.artifactLocation);
  }

  /**
   * Lets `handler` do `access` on the scratch data and passes SCRATCH_LOCATION: ListBucket only for keys
   * under the prefix (the `s3:prefix` condition), the object actions only on objects under it.
   */
  grant(handler: HandlerFunction, access: readonly ScratchAccess[], owner: string): void {
    if (access.length === 0) return;
    const objectActions = [...new Set(access.filter((what) => what !== ScratchAccess.List).map((what) => SCRATCH_ACTIONS[what]))].sort();
    if (access.includes(ScratchAccess.List)) {
      handler.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [SCRATCH_ACTIONS[ScratchAccess.List]],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${this.prefix}*`] } },
        }),
      );
    }
    if (objectActions.length > 0) {
      handler.role.addToPrincipalPolicy(new PolicyStatement({ actions: objectActions, resources: [this.bucket.arnForObjects(`${this.prefix}*`)] }));
      // cdk-nag names the finding by the resource as written: <logical id of the bucket.Arn>/prefix*.
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
      Validations.of(handler.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.prefix}*]`,
        reason: `${owner} works on the scratch objects under ${this.prefix}, whose keys it learns at run time (by convention <transient name>/...); the grant covers that prefix and nothing else in the bucket.`,
      });
    }
    handler.function.addEnvironment(ENV.scratchLocation, this.location);
  }
}
