// Would the instances be allowed what their boot script and the app do? Every object, secret and key the
// synthesized boot script names is checked against the synthesized IAM, bucket and key policies with the
// request context AWS would send (kms:ViaService, aws:SecureTransport). A denial here is a boot loop on AWS.
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
