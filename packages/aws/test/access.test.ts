// Would the instances be allowed what their boot script and the app do? Every object, secret and key the
// synthesized boot script names is checked against the synthesized IAM, bucket and key policies with the
// request context AWS would send (kms:ViaService, aws:SecureTransport). A denial here is a boot loop on AWS.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateAccess, statementsOf, type AccessRequest } from '../src/policy/access.js';
import type { SynthJson } from '../src/policy/rules.js';
import { all, examples, one, synthDefinition } from './helpers.js';

let primary: SynthJson;
const REGION = 'us-east-1';
const ACCOUNT = '${data.aws_caller_identity.me.account_id}';
const accountRoot = `arn:aws:iam::${ACCOUNT}:root`;

beforeAll(() => {
  primary = synthDefinition(examples.complete!).stacks['conduit-prod-us-east-1']!;
});

/** Everything the synthesized boot script of a tier touches: S3 objects and secrets, as ARNs. */
function touched(json: SynthJson, tier: 'api' | 'front') {
  const ud = String(one(json, 'aws_launch_template', `${tier}_template`).user_data);
  // The installer's keys are $tier/$version.<ext>: this tier, some version.
  const objects = [...ud.matchAll(/s3:\/\/\$\{(aws_s3_bucket\.[^.]+)\.bucket\}\/([^ ]+)/g)]
    .map((m) => `\${${m[1]}.arn}/${m[2]!.replace('$tier', tier).replace('$version', '0123abc')}`);
  // A secret's ARN is its name and 6 random characters.
  const secrets = [...ud.matchAll(/=\$\(secret '([^']+)'\)/g)].map((m) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${m[1]}-AbCdEf`);
  return { objects, secrets };
}

function access(json: SynthJson, tier: 'api' | 'front') {
  const role = one(json, 'aws_iam_role', `${tier}_role`).name as string;
  const principal = `arn:aws:iam::${ACCOUNT}:role/${role}`;
  const identity = statementsOf(one(json, 'aws_iam_role_policy', `${tier}_policy`).policy);
  const key = all(json, 'aws_kms_key').map(([n, c]) => ({ arn: `\${aws_kms_key.${n}.arn}`, policy: statementsOf(c.policy) }))[0]!;
  const bucketPolicy = statementsOf(one(json, 'aws_s3_bucket_policy', 'releases').policy);
  const check = (r: Omit<AccessRequest, 'principal'>, resource?: ReturnType<typeof statementsOf>, kms = false) =>
    evaluateAccess({ ...r, principal }, { identity, resource, resourcePolicyRequired: kms, accountRoot });
  return { principal, key, bucketPolicy, check };
}

describe('instance access (evaluated over the synthesized policies)', () => {
  for (const tier of ['api', 'front'] as const) {
    it(`${tier}: reads every release object the boot script downloads, and decrypts it through S3 with the region key`, () => {
      const { objects } = touched(primary, tier);
      expect(objects).toContain(`\${${String(one(primary, 'aws_s3_bucket_policy', 'releases').bucket).replace(/^\$\{|\.id\}$/g, '')}.arn}/${tier}/0123abc.tar.gz`);
      const { key, bucketPolicy, check } = access(primary, tier);
      const secure = { 'aws:SecureTransport': 'true' };
      for (const object of objects) {
        const get = check({ action: 's3:GetObject', resource: object, context: secure }, bucketPolicy);
        expect(get.allowed, `${object}: ${get.reason}`).toBe(true);
        // SSE-KMS: S3 decrypts the object's data key with the bucket's key on the caller's behalf.
        const decrypt = check({ action: 'kms:Decrypt', resource: key.arn, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } }, key.policy, true);
        expect(decrypt.allowed, decrypt.reason).toBe(true);
        // The bucket refuses plain HTTP whatever the role may do.
        expect(check({ action: 's3:GetObject', resource: object, context: { 'aws:SecureTransport': 'false' } }, bucketPolicy).reason).toMatch(/explicitly denied by DenyPlainHttp/);
      }
      // The key is usable only through S3 and Secrets Manager, never directly.
      expect(check({ action: 'kms:Decrypt', resource: key.arn, context: {} }, key.policy, true).allowed).toBe(false);
    });
  }

  it('api: reads every secret the boot script reads, and decrypts it through Secrets Manager', () => {
    const { secrets } = touched(primary, 'api');
    expect(secrets).toHaveLength(3);
    const { key, check } = access(primary, 'api');
    for (const secret of secrets) {
      const get = check({ action: 'secretsmanager:GetSecretValue', resource: secret });
      expect(get.allowed, `${secret}: ${get.reason}`).toBe(true);
    }
    const decrypt = check({ action: 'kms:Decrypt', resource: key.arn, context: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } }, key.policy, true);
    expect(decrypt.allowed, decrypt.reason).toBe(true);
    // Its own Redis password, not the cache's disabled default user's (nor the database master's).
    expect(secrets).toContain(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:conduit-prod/cache/conduit-api-${REGION}-AbCdEf`);
    for (const other of [`conduit-prod/cache/default-${REGION}`, 'conduit-prod/db/master']) {
      expect(check({ action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${other}-AbCdEf` }).allowed, other).toBe(false);
    }
  });

  it('front: reads no secret, nor the API release', () => {
    const { check } = access(primary, 'front');
    const apiObject = touched(primary, 'api').objects[0]!;
    expect(check({ action: 's3:GetObject', resource: apiObject, context: { 'aws:SecureTransport': 'true' } }).allowed).toBe(false);
    for (const secret of touched(primary, 'api').secrets) expect(check({ action: 'secretsmanager:GetSecretValue', resource: secret }).allowed).toBe(false);
  });
});

describe('the evaluator', () => {
  const root = 'arn:aws:iam::1:root';
  const me = 'arn:aws:iam::1:role/me';
  const keyPolicy = [{ Sid: 'Root', Effect: 'Allow' as const, Principal: { AWS: root }, Action: 'kms:*', Resource: '*' }];
  it('needs both the key policy and an identity policy whose condition holds (kms:ViaService)', () => {
    const identity = [{ Sid: 'ViaSecrets', Effect: 'Allow' as const, Action: 'kms:Decrypt', Resource: 'k', Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.r.amazonaws.com' } } }];
    const req = (via: string) => ({ action: 'kms:Decrypt', resource: 'k', principal: me, context: { 'kms:ViaService': via } });
    expect(evaluateAccess(req('secretsmanager.r.amazonaws.com'), { identity, resource: keyPolicy, resourcePolicyRequired: true, accountRoot: root }).allowed).toBe(true);
    // The shape of blocker 1: a decrypt limited to Secrets Manager does not cover an S3 download.
    expect(evaluateAccess(req('s3.r.amazonaws.com'), { identity, resource: keyPolicy, resourcePolicyRequired: true, accountRoot: root }).allowed).toBe(false);
    expect(evaluateAccess(req('secretsmanager.r.amazonaws.com'), { identity, resource: [], resourcePolicyRequired: true, accountRoot: root }).reason).toMatch(/key policy allows no/);
  });
  it('matches wildcards, lets an explicit deny win, and refuses operators it does not know', () => {
    const identity = [{ Effect: 'Allow' as const, Action: 's3:Get*', Resource: 'b/api/*' }];
    expect(evaluateAccess({ action: 's3:GetObject', resource: 'b/api/x.tgz', principal: me }, { identity, accountRoot: root }).allowed).toBe(true);
    expect(evaluateAccess({ action: 's3:GetObject', resource: 'b/front/x.tgz', principal: me }, { identity, accountRoot: root }).allowed).toBe(false);
    const deny = [{ Sid: 'No', Effect: 'Deny' as const, Principal: '*', Action: 's3:*', Resource: 'b/*' }];
    expect(evaluateAccess({ action: 's3:GetObject', resource: 'b/api/x.tgz', principal: me }, { identity, resource: deny, accountRoot: root }).allowed).toBe(false);
    const odd = [{ Sid: 'Odd', Effect: 'Allow' as const, Action: 's3:GetObject', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }];
    expect(evaluateAccess({ action: 's3:GetObject', resource: 'b/x', principal: me }, { identity: odd, accountRoot: root }).reason).toMatch(/unsupported operator IpAddress/);
  });
});

describe('state replication (Terraform state survives the primary region)', () => {
  it('replicates the state bucket to a bucket in the secondary region, re-encrypted there with a key of that region', () => {
    const state = synthDefinition(examples.complete!).stacks['conduit-prod-state']!;
    const buckets = all(state, 'aws_s3_bucket').map(([, c]) => `${c.bucket} in ${c.region ?? 'the provider region'}`).sort();
    expect(buckets).toEqual(['conduit-prod-tfstate-us-east-1 in the provider region', 'conduit-prod-tfstate-us-east-1-replica in us-west-2']);
    const rule = one(state, 'aws_s3_bucket_replication_configuration').rule[0];
    expect(rule).toMatchObject({ status: 'Enabled', delete_marker_replication: { status: 'Enabled' }, source_selection_criteria: { sse_kms_encrypted_objects: { status: 'Enabled' } } });
    expect(rule.destination.bucket).toMatch(/^\$\{aws_s3_bucket\.replica_bucket_[0-9A-F]+\.arn\}$/);
    const keys = all(state, 'aws_kms_key');
    const replicaKey = keys.find(([, c]) => c.region === 'us-west-2')!;
    expect(rule.destination.encryption_configuration.replica_kms_key_id).toBe(`\${aws_kms_key.${replicaKey[0]}.arn}`);

    // And the replication role may do each step S3 performs for it.
    const sourceKey = keys.find(([, c]) => c.region === undefined)!;
    const identity = statementsOf(one(state, 'aws_iam_role_policy', 'replication').policy);
    const principal = `arn:aws:iam::${ACCOUNT}:role/conduit-prod-state-replication`;
    const src = String(one(state, 'aws_s3_bucket_replication_configuration').bucket).replace(/\.id\}$/, '.arn}');
    const steps: [AccessRequest['action'], string, Record<string, string>, [string, Record<string, any>] | null][] = [
      ['s3:GetReplicationConfiguration', src, {}, null],
      ['s3:GetObjectVersionForReplication', `${src}/conduit-prod-us-east-1/terraform.tfstate`, {}, null],
      ['s3:ReplicateObject', `${rule.destination.bucket}/conduit-prod-us-east-1/terraform.tfstate`, {}, null],
      ['kms:Decrypt', `\${aws_kms_key.${sourceKey[0]}.arn}`, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }, sourceKey],
      ['kms:GenerateDataKey', `\${aws_kms_key.${replicaKey[0]}.arn}`, { 'kms:ViaService': 's3.us-west-2.amazonaws.com' }, replicaKey],
    ];
    for (const [action, resource, context, key] of steps) {
      const d = evaluateAccess({ action, resource, principal, context }, { identity, resource: key ? statementsOf(key[1].policy) : [], resourcePolicyRequired: key !== null, accountRoot });
      expect(d.allowed, `${action} ${resource}: ${d.reason}`).toBe(true);
    }
  });

  it('has no replica with a single region', () => {
    const state = synthDefinition(examples['single-region']!).stacks['conduit-small-state']!;
    expect(all(state, 'aws_s3_bucket')).toHaveLength(1);
    expect(all(state, 'aws_s3_bucket_replication_configuration')).toHaveLength(0);
  });
});

describe('the GitHub deploy role (OIDC), evaluated over its synthesized trust and policy', () => {
  const OIDC = 'token.actions.githubusercontent.com';
  let trust: ReturnType<typeof statementsOf>;
  let provider: string;
  let role: string;
  let identity: ReturnType<typeof statementsOf>;
  let secondary: SynthJson;
  beforeAll(() => {
    const s = synthDefinition(examples.complete!);
    secondary = s.stacks['conduit-prod-us-west-2']!;
    const [name] = all(primary, 'aws_iam_openid_connect_provider').map(([n]) => n);
    provider = `\${aws_iam_openid_connect_provider.${name}.arn}`;
    const r = one(primary, 'aws_iam_role', 'github-deploy_role');
    trust = statementsOf(r.assume_role_policy);
    role = `arn:aws:iam::${ACCOUNT}:role/${r.name}`;
    identity = statementsOf(one(primary, 'aws_iam_role_policy', 'github-deploy_policy').policy);
  });

  const assume = (sub: string, aud = 'sts.amazonaws.com') =>
    evaluateAccess({ action: 'sts:AssumeRoleWithWebIdentity', resource: role, principal: provider, context: { [`${OIDC}:sub`]: sub, [`${OIDC}:aud`]: aud } }, { identity: [], resource: trust, accountRoot });

  it('trusts GitHub\'s OIDC provider (audience sts.amazonaws.com) for this repository\'s staging and production jobs only', () => {
    expect(one(primary, 'aws_iam_openid_connect_provider').url).toBe(`https://${OIDC}`);
    expect(one(primary, 'aws_iam_openid_connect_provider').client_id_list).toEqual(['sts.amazonaws.com']);
    for (const env of ['staging', 'production']) expect(assume(`repo:conduit-platform/conduit:environment:${env}`).allowed).toBe(true);
    const refused = [
      'repo:conduit-platform/conduit:ref:refs/heads/main', // a job without an environment (no approval)
      'repo:conduit-platform/conduit:pull_request', // a pull request, even from a fork
      'repo:conduit-platform/conduit:environment:dev', // an environment the definition does not list
      'repo:someone/conduit:environment:production', // another repository
    ];
    for (const sub of refused) expect(assume(sub).allowed, sub).toBe(false);
    expect(assume('repo:conduit-platform/conduit:environment:production', 'other-audience').allowed).toBe(false);
    // Exists once (IAM is global): in the primary region's stack only.
    expect(all(secondary, 'aws_iam_openid_connect_provider')).toHaveLength(0);
  });

  const can = (action: string, resource: string, context: Record<string, string> = {}, resourcePolicy?: ReturnType<typeof statementsOf>) =>
    evaluateAccess({ action, resource, principal: role, context }, { identity, resource: resourcePolicy, accountRoot });

  it('may do each deploy step in both regions: read the deploy settings, upload releases, run the migrations document, refresh the groups', () => {
    for (const [json, region] of [[primary, 'us-east-1'], [secondary, 'us-west-2']] as const) {
      const parameter = one(json, 'aws_ssm_parameter', 'deploy_parameter').name as string;
      expect(can('ssm:GetParameter', `arn:aws:ssm:${region}:${ACCOUNT}:parameter${parameter}`).allowed).toBe(true);
      // The bucket's real name is its prefix plus what Terraform picks.
      const bucket = `${one(json, 'aws_s3_bucket', 'releases_bucket').bucket_prefix}20261129abcdef`;
      const bucketPolicy = statementsOf(one(json, 'aws_s3_bucket_policy', 'releases').policy).map((st) => ({ ...st, Resource: asResources(st.Resource).map((r) => r.replace(/^\$\{aws_s3_bucket\.[^.]+\.arn\}/, `arn:aws:s3:::${bucket}`)) }));
      for (const key of ['api/0123abc.tar.gz', 'api/0123abc.release.json', 'front/0123abc.tar.gz']) {
        const put = can('s3:PutObject', `arn:aws:s3:::${bucket}/${key}`, { 'aws:SecureTransport': 'true' }, bucketPolicy);
        expect(put.allowed, `${key}: ${put.reason}`).toBe(true);
      }
      const keyPolicy = statementsOf(all(json, 'aws_kms_key')[0]![1].policy);
      const dataKey = evaluateAccess({ action: 'kms:GenerateDataKey', resource: `arn:aws:kms:${region}:${ACCOUNT}:key/1234abcd`, principal: role, context: { 'kms:ViaService': `s3.${region}.amazonaws.com` } }, { identity, resource: keyPolicy, resourcePolicyRequired: true, accountRoot });
      expect(dataKey.allowed, dataKey.reason).toBe(true);
      const document = one(json, 'aws_ssm_document', 'migrate').name as string;
      expect(can('ssm:SendCommand', `arn:aws:ssm:${region}:${ACCOUNT}:document/${document}`).allowed).toBe(true);
      const apiInstance = { 'ssm:resourceTag/Project': 'conduit-prod', 'ssm:resourceTag/Tier': 'api' };
      expect(can('ssm:SendCommand', `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123`, apiInstance).allowed).toBe(true);
      for (const tier of ['api', 'front']) {
        const group = one(json, 'aws_autoscaling_group', `${tier}_asg`).name as string;
        const refresh = can('autoscaling:StartInstanceRefresh', `arn:aws:autoscaling:${region}:${ACCOUNT}:autoScalingGroup:0f1e:autoScalingGroupName/${group}`);
        expect(refresh.allowed, refresh.reason).toBe(true);
        expect(can('ec2:CreateLaunchTemplateVersion', `arn:aws:ec2:${region}:${ACCOUNT}:launch-template/lt-0123`, { 'aws:ResourceTag/Project': 'conduit-prod' }).allowed).toBe(true);
        const instanceRole = one(json, 'aws_iam_role', `${tier}_role`).name as string;
        expect(can('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/${instanceRole}`, { 'iam:PassedToService': 'ec2.amazonaws.com' }).allowed).toBe(true);
      }
    }
  });

  it('cannot do IAM, read secrets or state, run other commands, plant a log shipper, or touch other groups', () => {
    const denied: [string, string, Record<string, string>?][] = [
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/anything`],
      ['iam:PutRolePolicy', role],
      ['iam:AttachRolePolicy', role],
      ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/anyone`],
      // PassRole only of the instance roles, only to EC2.
      ['iam:PassRole', role, { 'iam:PassedToService': 'ec2.amazonaws.com' }],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/conduit-prod-us-east-1-api`, { 'iam:PassedToService': 'lambda.amazonaws.com' }],
      ['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:conduit-prod/db/conduit_app-AbCdEf`],
      ['kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd`, { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' }],
      ['s3:GetObject', 'arn:aws:s3:::conduit-prod-tfstate-us-east-1/conduit-prod-us-east-1/terraform.tfstate'],
      ['s3:PutObject', `arn:aws:s3:::conduit-prod-us-east-1-releases-20261129abcdef/tools/fluent-bit.rpm`],
      ['s3:DeleteObject', `arn:aws:s3:::conduit-prod-us-east-1-releases-20261129abcdef/api/0123abc.tar.gz`],
      ['ssm:SendCommand', `arn:aws:ssm:us-east-1::document/AWS-RunShellScript`],
      ['ssm:SendCommand', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123`, { 'ssm:resourceTag/Project': 'conduit-prod', 'ssm:resourceTag/Tier': 'front' }],
      ['ssm:GetParameter', `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/conduit-prod/secrets`],
      ['autoscaling:StartInstanceRefresh', `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:0f1e:autoScalingGroupName/another-api`],
      ['autoscaling:UpdateAutoScalingGroup', `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:0f1e:autoScalingGroupName/conduit-prod-us-east-1-api`],
      ['ec2:CreateLaunchTemplateVersion', `arn:aws:ec2:us-east-1:${ACCOUNT}:launch-template/lt-0123`, { 'aws:ResourceTag/Project': 'another' }],
      ['ec2:RunInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`],
    ];
    for (const [action, resource, context] of denied) {
      const d = can(action, resource, context ?? {});
      expect(d.allowed, `${action} ${resource}: ${d.reason}`).toBe(false);
    }
    // No statement names IAM beyond PassRole, nor Secrets Manager, at all.
    const actions = identity.flatMap((st) => asResources(st.Action));
    expect(actions.filter((a) => a.startsWith('iam:'))).toEqual(['iam:PassRole']);
    expect(actions.some((a) => a.startsWith('secretsmanager:') || a.includes('*'))).toBe(false);
  });

  it('allows every AWS call the deploy scripts make (scripts/deploy/*.sh)', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/deploy');
    const calls = new Set(readdirSync(dir).filter((f) => f.endsWith('.sh')).flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/\baws (s3api|s3|ssm|autoscaling|ec2) ([a-z-]+)/g)].map((m) => `${m[1]} ${m[2]}`)));
    // The CLI commands and the IAM actions they need.
    const needs: Record<string, string> = {
      's3 cp': 's3:PutObject', 's3api head-object': 's3:GetObject', 's3api put-object': 's3:PutObject',
      'ssm get-parameter': 'ssm:GetParameter', 'ssm send-command': 'ssm:SendCommand', 'ssm list-command-invocations': 'ssm:ListCommandInvocations',
      'autoscaling describe-auto-scaling-groups': 'autoscaling:DescribeAutoScalingGroups', 'autoscaling start-instance-refresh': 'autoscaling:StartInstanceRefresh',
      'autoscaling describe-instance-refreshes': 'autoscaling:DescribeInstanceRefreshes',
      'ec2 describe-launch-template-versions': 'ec2:DescribeLaunchTemplateVersions', 'ec2 create-launch-template-version': 'ec2:CreateLaunchTemplateVersion',
      'ec2 modify-launch-template': 'ec2:ModifyLaunchTemplate',
    };
    expect(calls.size).toBeGreaterThan(5);
    const granted = new Set(identity.filter((st) => st.Effect === 'Allow').flatMap((st) => asResources(st.Action)));
    for (const call of calls) {
      expect(needs[call], `scripts/deploy calls \`aws ${call}\`: map it to its IAM action here`).toBeDefined();
      expect(granted.has(needs[call]!), `aws ${call} needs ${needs[call]}, which the deploy role lacks`).toBe(true);
    }
  });
});

const asResources = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
