// The bootstrap stack: the S3 bucket that holds every other stack's state (versioned, encrypted, private, TLS
// only), replicated to the secondary region (its own key there), so that when the primary region is down the
// stacks can still be planned and applied against the replica (README: "Terraform state in a regional outage").
// Its own state stays local: apply it once, before anything else; synthesize() never deletes it.
import type { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktn';
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { S3BucketReplicationConfigurationA } from '@cdktn/provider-aws/lib/s3-bucket-replication-configuration/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import type { AwsSettings } from '../settings.js';
import { SecureBucket } from '../constructs/bucket.js';
import { RegionKey } from '../constructs/kms.js';
import { assumeRolePolicy, policyJson } from '../constructs/common.js';
import { awsProvider } from './common.js';

export class StateStack extends TerraformStack {
  constructor(scope: Construct, id: string, def: ResolvedDefinition, settings: AwsSettings) {
    super(scope, id);
    awsProvider(this, def, id, def.regions.primary);
    new LocalBackend(this, { path: 'terraform.tfstate' });
    const me = new DataAwsCallerIdentity(this, 'me');
    const key = new RegionKey(this, 'key', { name: def.name, region: def.regions.primary, accountId: me.accountId, alias: `${def.name}-state` });
    const state = new SecureBucket(this, 'state', { bucket: settings.stateBucket, encryption: key.key.arn, expireAfterDays: null });
    new TerraformOutput(this, 'state_bucket', { value: state.bucket.bucket, description: 'Remote state bucket of every other stack' });

    const secondary = def.regions.secondary;
    if (!secondary || !settings.stateReplicaBucket) return;
    const replicaKey = new RegionKey(this, 'replica-key', { name: def.name, region: secondary, accountId: me.accountId, alias: `${def.name}-state`, placeIn: true });
    const replica = new SecureBucket(this, 'replica', { bucket: settings.stateReplicaBucket, encryption: replicaKey.key.arn, expireAfterDays: null, region: secondary });
    const role = new IamRole(this, 'replication-role', { name: `${def.name}-state-replication`, assumeRolePolicy: assumeRolePolicy('s3.amazonaws.com') });
    new IamRolePolicy(this, 'replication-policy', {
      role: role.id,
      policy: policyJson(
        { Sid: 'ReadSourceConfig', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: state.bucket.arn },
        { Sid: 'ReadSourceVersions', Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: `${state.bucket.arn}/*` },
        { Sid: 'WriteReplica', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `${replica.bucket.arn}/*` },
        { Sid: 'DecryptSource', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.key.arn, Condition: { StringEquals: { 'kms:ViaService': `s3.${def.regions.primary}.amazonaws.com` } } },
        { Sid: 'EncryptReplica', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: replicaKey.key.arn, Condition: { StringEquals: { 'kms:ViaService': `s3.${secondary}.amazonaws.com` } } },
      ),
    });
    new S3BucketReplicationConfigurationA(this, 'replication', {
      bucket: state.bucket.id,
      role: role.arn,
      rule: [
        {
          id: 'state-to-secondary',
          status: 'Enabled',
          filter: { prefix: '' },
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: { bucket: replica.bucket.arn, encryptionConfiguration: { replicaKmsKeyId: replicaKey.key.arn } },
        },
      ],
      // Replication needs versioning on both buckets first.
      dependsOn: [state.versioning, replica.versioning],
    });
    new TerraformOutput(this, 'state_replica_bucket', { value: replica.bucket.bucket, description: `Replica of the state bucket in ${secondary}: the backend to use when ${def.regions.primary} is down` });
  }
}
