// One customer-managed key per region, rotated yearly; its policy lets the account administer it and
// lets CloudWatch Logs (log groups) and CloudWatch alarms (encrypted SNS topic) use it, nothing else.
import { Construct } from 'constructs';
import { KmsKey } from '@cdktn/provider-aws/lib/kms-key/index.js';
import { KmsAlias } from '@cdktn/provider-aws/lib/kms-alias/index.js';
import { policyJson } from './common.js';

export class RegionKey extends Construct {
  readonly key: KmsKey;
  constructor(scope: Construct, id: string, props: { name: string; region: string; accountId: string; alias?: string }) {
    super(scope, id);
    const { name, region, accountId } = props;
    this.key = new KmsKey(this, 'key', {
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
    new KmsAlias(this, 'alias', { name: `alias/${props.alias ?? `${name}-data`}`, targetKeyId: this.key.keyId });
  }
}
