/**
 * The scratch data (cutouts, intermediate files): an S3 bucket that is encrypted, reachable over TLS only,
 * never public, with its data under one prefix. Pruning deletes what no unfinished transient needs; a
 * lifecycle rule is the safety net for whatever pruning leaves. A function that uses the scratch data gets
 * SCRATCH_LOCATION and exactly the S3 actions its runner's `scratchAccess` names, on that prefix only.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { RETENTION_SECONDS } from '../queue/queue-settings';
import { ScratchAccess } from '../runner';
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

export interface ScratchBucketProps {
  /** Where the scratch data lives in the bucket: a key prefix ending in `/`. @default 'scratch/' */
  readonly prefix?: string;
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

  constructor(scope: Construct, id: string, props: ScratchBucketProps = {}) {
    super(scope, id);
    const prefix = props.prefix ?? 'scratch/';
    if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/.test(prefix)) {
      throw new Error(`${this.node.path}: prefix "${prefix}" must be one or more safe key segments ending in "/", e.g. "scratch/"`);
    }
    const expiry = props.expireAfter ?? DEFAULT_EXPIRY;
    if (expiry.toDays({ integral: false }) < 1 || !Number.isInteger(expiry.toDays({ integral: false }))) {
      throw new Error(`${this.node.path}: expireAfter must be a whole number of days (S3 lifecycle rules count days), not ${expiry.toHumanString()}`);
    }
    this.prefix = prefix;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Unversioned: a pruned object is gone, not kept as a noncurrent version.
      versioned: false,
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
