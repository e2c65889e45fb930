// The bootstrap stack: the S3 bucket that holds every other stack's state (versioned, encrypted,
// private, TLS only). Its own state stays local: apply it once, before anything else.
import type { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktn';
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import type { AwsSettings } from '../settings.js';
import { SecureBucket } from '../constructs/bucket.js';
import { RegionKey } from '../constructs/kms.js';
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
  }
}
