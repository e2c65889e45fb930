// What the deploy workflow (.github/workflows/deploy-region.yml) needs from a region, and who may use it.
// - RegionDeploy (every region): the migration command as an SSM document (the only command the deploy role
//   may send to an instance, with a validated version argument), and one SSM parameter holding what the workflow
//   reads: the releases bucket, the groups, their launch templates, and the instance refresh preferences (the
//   same values the groups' own instance_refresh block uses). The workflow never reads Terraform state: the state
//   holds generated secrets, and the deploy role may not read secrets.
// - GithubDeployRole (primary region only; IAM is global): GitHub's OIDC provider and a role whose trust accepts
//   only this repository's jobs in the definition's environments, allowed exactly the deploy's steps.
import { Construct } from 'constructs';
import { IamOpenidConnectProvider } from '@cdktn/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { SsmDocument } from '@cdktn/provider-aws/lib/ssm-document/index.js';
import { SsmParameter } from '@cdktn/provider-aws/lib/ssm-parameter/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import { tierResourceName } from '../settings.js';
import { migrateCommand } from '../user-data.js';
import { policyJson, type RegionContext, type Statement } from './common.js';
import type { Tier } from './tier.js';

/** A release version as the workflows write it (a git commit, or a tag): also what the SSM document accepts. */
export const RELEASE_VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$';

export const GITHUB_OIDC = { url: 'https://token.actions.githubusercontent.com', host: 'token.actions.githubusercontent.com', audience: 'sts.amazonaws.com' } as const;

/** Deterministic names the role's policy and the workflow share. */
export const deployNames = (name: string, region: string) => ({
  parameter: `/${name}/deploy/${region}`,
  document: `${name}-migrate`,
  group: (tier: 'front' | 'api') => tierResourceName(name, region, tier),
  /** Releases buckets are named from this prefix plus a suffix Terraform picks. */
  bucketPrefix: `${name}-${region}-releases-`,
});
export const deployRoleName = (name: string) => `${name}-deploy`;

/** The tier's instance refresh in the AutoScaling API's shape (start-instance-refresh --preferences). */
export const refreshPreferences = ({ refresh: r }: Tier) => ({
  MinHealthyPercentage: r.minHealthyPercentage,
  MaxHealthyPercentage: r.maxHealthyPercentage,
  AutoRollback: true,
  SkipMatching: true,
  CheckpointPercentages: r.checkpointPercentages,
  CheckpointDelay: r.bakeSeconds,
  AlarmSpecification: { Alarms: r.alarms },
});

export class RegionDeploy extends Construct {
  readonly parameter: SsmParameter;
  readonly document: SsmDocument;
  constructor(scope: Construct, id: string, ctx: RegionContext, props: { releasesBucket: string; tiers: { front: Tier; api: Tier } }) {
    super(scope, id);
    const { def, plan } = ctx;
    const names = deployNames(def.name, plan.region);
    this.document = new SsmDocument(this, 'migrate', {
      name: names.document,
      documentType: 'Command',
      documentFormat: 'JSON',
      content: JSON.stringify({
        schemaVersion: '2.2',
        description: `Runs the database migrations of one ${def.name} release (once per deploy, on one API instance).`,
        parameters: { version: { type: 'String', description: 'release version', allowedPattern: RELEASE_VERSION_PATTERN } },
        mainSteps: [{ action: 'aws:runShellScript', name: 'migrate', inputs: { timeoutSeconds: '900', runCommand: [`${migrateCommand(def.name)} {{ version }}`] } }],
      }),
    });
    const { front, api } = props.tiers;
    this.parameter = new SsmParameter(this, 'parameter', {
      name: names.parameter,
      type: 'String',
      description: `What ${def.name}'s deploy workflow needs in ${plan.region} (written by Terraform; read with ssm:GetParameter)`,
      value: JSON.stringify({
        region: plan.region,
        releasesBucket: props.releasesBucket,
        migrateDocument: names.document,
        groups: {
          api: { name: api.asg.name, launchTemplateId: api.template.id, preferences: refreshPreferences(api) },
          front: { name: front.asg.name, launchTemplateId: front.template.id, preferences: refreshPreferences(front) },
        },
      }),
    });
  }
}

export interface DeployRoleProps {
  /** owner/name */
  repository: string;
  environments: string[];
  /** Instance role ARNs of both tiers in every region (passed to EC2 by the refreshed groups). */
  instanceRoleArns: string[];
}

/** The deploy role's permissions: the deploy steps of scripts/deploy/*.sh, in every region, nothing else. */
export function deployStatements(def: ResolvedDefinition, accountId: string, instanceRoleArns: string[]): Statement[] {
  const perRegion = def.regionList.map((region) => ({ region, names: deployNames(def.name, region) }));
  return [
    { Sid: 'ReadDeploySettings', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: perRegion.map(({ region, names }) => `arn:aws:ssm:${region}:${accountId}:parameter${names.parameter}`) },
    {
      Sid: 'UploadReleases', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'],
      Resource: perRegion.flatMap(({ names }) => ['api', 'front'].map((tier) => `arn:aws:s3:::${names.bucketPrefix}*/${tier}/*`)),
    },
    // SSE-KMS uploads: S3 asks the region's key for a data key on the caller's behalf, through S3 only.
    ...perRegion.map(({ region }) => ({
      Sid: `EncryptReleases${region.replace(/-/g, '')}`, Effect: 'Allow' as const, Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: `arn:aws:kms:${region}:${accountId}:key/*`, Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    })),
    {
      Sid: 'RunMigrationsDocument', Effect: 'Allow', Action: 'ssm:SendCommand',
      Resource: perRegion.map(({ region, names }) => `arn:aws:ssm:${region}:${accountId}:document/${names.document}`),
    },
    {
      Sid: 'RunMigrationsOnApiInstances', Effect: 'Allow', Action: 'ssm:SendCommand',
      Resource: perRegion.map(({ region }) => `arn:aws:ec2:${region}:${accountId}:instance/*`),
      Condition: { StringEquals: { 'ssm:resourceTag/Project': def.name, 'ssm:resourceTag/Tier': 'api' } },
    },
    {
      Sid: 'RefreshGroups', Effect: 'Allow', Action: ['autoscaling:StartInstanceRefresh', 'autoscaling:CancelInstanceRefresh', 'autoscaling:RollbackInstanceRefresh'],
      Resource: perRegion.flatMap(({ region, names }) => (['api', 'front'] as const).map((tier) => `arn:aws:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/${names.group(tier)}`)),
    },
    {
      Sid: 'NewTemplateVersions', Effect: 'Allow', Action: ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'],
      Resource: perRegion.map(({ region }) => `arn:aws:ec2:${region}:${accountId}:launch-template/*`),
      Condition: { StringEquals: { 'aws:ResourceTag/Project': def.name } },
    },
    // Starting a refresh with a launch template checks that the caller could launch it (RunInstances with the
    // template, tags) and pass its instance profile's role to EC2: only these roles, only to EC2.
    {
      Sid: 'LaunchFromTemplates', Effect: 'Allow', Action: ['ec2:RunInstances', 'ec2:CreateTags'],
      Resource: perRegion.flatMap(({ region }) => [`arn:aws:ec2:${region}:${accountId}:*`, `arn:aws:ec2:${region}::image/*`]),
      Condition: { ArnLike: { 'ec2:LaunchTemplate': `arn:aws:ec2:*:${accountId}:launch-template/*` }, Bool: { 'ec2:IsLaunchTemplateResource': 'true' } },
    },
    { Sid: 'PassInstanceRoles', Effect: 'Allow', Action: 'iam:PassRole', Resource: instanceRoleArns, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } },
    {
      Sid: 'Observe', Effect: 'Allow', Resource: '*',
      // Describe/List only (no resource-level permissions exist for them); command results via ListCommandInvocations.
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeInstanceRefreshes', 'ec2:DescribeLaunchTemplateVersions', 'ssm:ListCommandInvocations'],
    },
  ];
}

export class GithubDeployRole extends Construct {
  readonly role: IamRole;
  constructor(scope: Construct, id: string, ctx: RegionContext, props: DeployRoleProps) {
    super(scope, id);
    const { def, accountId } = ctx;
    const provider = new IamOpenidConnectProvider(this, 'github', { url: GITHUB_OIDC.url, clientIdList: [GITHUB_OIDC.audience] });
    this.role = new IamRole(this, 'role', {
      name: deployRoleName(def.name),
      description: `GitHub Actions deploys of ${props.repository} (${props.environments.join(', ')})`,
      maxSessionDuration: 3600,
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{
        Sid: 'GithubEnvironments',
        Effect: 'Allow',
        Principal: { Federated: provider.arn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience,
            // The subject of a job that uses an environment: repo:<owner/name>:environment:<name>. Branches,
            // pull requests and other repositories have other subjects and are refused.
            [`${GITHUB_OIDC.host}:sub`]: props.environments.map((e) => `repo:${props.repository}:environment:${e}`),
          },
        },
      }] }),
    });
    new IamRolePolicy(this, 'policy', { role: this.role.id, policy: policyJson(...deployStatements(def, accountId, props.instanceRoleArns)) });
  }
}
