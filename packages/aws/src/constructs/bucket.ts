// A private S3 bucket: public access blocked, owner-enforced objects, versioning, encryption,
// lifecycle rules, and a policy that refuses plain-HTTP requests. Every bucket of every stack is one of these.
import { Construct } from 'constructs';
import { S3Bucket } from '@cdktn/provider-aws/lib/s3-bucket/index.js';
import { S3BucketPublicAccessBlock } from '@cdktn/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketOwnershipControls } from '@cdktn/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketVersioningA } from '@cdktn/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktn/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktn/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketPolicy } from '@cdktn/provider-aws/lib/s3-bucket-policy/index.js';
import { NONCURRENT_VERSION_DAYS } from '../settings.js';
import { policyJson, type Statement } from './common.js';

export interface SecureBucketProps {
  /** Fixed name (the state bucket, which other stacks' backends name) or a prefix for a generated unique name. */
  bucket?: string;
  bucketPrefix?: string;
  /** A KMS key ARN, or 'sse-s3' where the writer cannot use KMS (ALB and CloudFront access logs). */
  encryption: string | 'sse-s3';
  /** Current objects expire after this many days (logs); null keeps them (releases, state, backups). */
  expireAfterDays: number | null;
  /** CloudFront standard logging writes with ACLs: the bucket must prefer the owner instead of enforcing it. */
  aclWriters?: boolean;
  /** Extra policy statements (log delivery services); `BUCKET_ARN` in a Resource is replaced by the bucket's ARN. */
  statements?: Statement[];
  tags?: Record<string, string>;
  /** Another region than the provider's (AWS provider 6 takes a region per resource): the state bucket's replica. */
  region?: string;
}

export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly versioning: S3BucketVersioningA;
  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const region = props.region ? { region: props.region } : {};
    this.bucket = new S3Bucket(this, 'bucket', {
      ...(props.bucket ? { bucket: props.bucket } : { bucketPrefix: props.bucketPrefix }),
      tags: props.tags,
      ...region,
    });
    const bucket = this.bucket.id;
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket, ...region,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket, ...region,
      rule: { objectOwnership: props.aclWriters ? 'BucketOwnerPreferred' : 'BucketOwnerEnforced' },
    });
    this.versioning = new S3BucketVersioningA(this, 'versioning', { bucket, ...region, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket, ...region,
      rule: [
        props.encryption === 'sse-s3'
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.encryption }, bucketKeyEnabled: true },
      ],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket, ...region,
      rule: [
        {
          id: 'tidy',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
          noncurrentVersionExpiration: [{ noncurrentDays: NONCURRENT_VERSION_DAYS }],
          ...(props.expireAfterDays ? { expiration: [{ days: props.expireAfterDays }] } : {}),
        },
      ],
    });
    const arn = this.bucket.arn;
    const extra = (props.statements ?? []).map((s) => ({
      ...s,
      Resource: ([] as string[]).concat(s.Resource).map((r) => r.replace('BUCKET_ARN', arn)),
    }));
    new S3BucketPolicy(this, 'policy', {
      bucket, ...region,
      policy: policyJson(
        {
          Sid: 'DenyPlainHttp',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': false } },
        },
        ...extra,
      ),
    });
  }
}
