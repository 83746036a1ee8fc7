/**
 * What every bucket of the stack is (the scratch data and artifacts, the web view's page): S3-managed encryption,
 * TLS 1.2 or newer only, no public access, ACLs disabled, unversioned (what is deleted is gone, not kept as a
 * noncurrent version). One declaration, so no bucket drifts from the others.
 */
import { BlockPublicAccess, BucketEncryption, type BucketProps, ObjectOwnership } from 'aws-cdk-lib/aws-s3';

export const PRIVATE_BUCKET = {
  encryption: BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  versioned: false,
} as const satisfies BucketProps;
