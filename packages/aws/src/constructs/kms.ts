// One customer-managed key per region, rotated yearly; its policy lets the account administer it and
// lets CloudWatch Logs (log groups) and CloudWatch alarms (encrypted SNS topic) use it, nothing else.
import { Construct } from 'constructs';
import { KmsKey } from '@cdktn/provider-aws/lib/kms-key/index.js';
import { KmsAlias } from '@cdktn/provider-aws/lib/kms-alias/index.js';
import { policyJson } from './common.js';

export class RegionKey extends Construct {
  readonly key: KmsKey;
  /** `placeIn`: create the key in props.region rather than the provider's region (AWS provider 6 per-resource region). */
  constructor(scope: Construct, id: string, props: { name: string; region: string; accountId: string; alias?: string; placeIn?: boolean }) {
    super(scope, id);
    const { name, region, accountId } = props;
    const where = props.placeIn ? { region } : {};
    this.key = new KmsKey(this, 'key', {
      ...where,
      description: `${name} data key (${region})`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyJson(
        { Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
        {
          Sid: 'CloudWatchLogsEncrypts',
          Effect: 'Allow',
          Principal: { Service: `logs.${region}.amazonaws.com` },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Resource: '*',
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${accountId}:*` } },
        },
        {
          Sid: 'CloudWatchAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
        },
      ),
    });
    new KmsAlias(this, 'alias', { ...where, name: `alias/${props.alias ?? `${name}-data`}`, targetKeyId: this.key.keyId });
  }
}
