// Fine-grained assertions on the synthesized Terraform JSON of the complete example (validations on),
// one describe per concern of the architecture, plus what changes for a single-region definition.
import { beforeAll, describe, expect, it } from 'vitest';
import { all, examples, one, synthDefinition, type Synthesized } from './helpers.js';
import { cacheAclRules, derivedTargetRps, measuredCapacity, observabilityAlarms, observabilityPanels } from '@conduit/definition';
import { prometheusRules } from '@conduit/local';
import type { SynthJson } from '../src/policy/rules.js';
import { MANAGED } from '../src/stacks/edge-stack.js';
import { rbacAccessString } from '../src/constructs/cache.js';
import { REDIS_VERSION } from '../src/settings.js';

let s: Synthesized;
let primary: SynthJson;
let secondary: SynthJson;
let edge: SynthJson;
let state: SynthJson;
let single: Synthesized;

beforeAll(() => {
  s = synthDefinition(examples.complete!);
  primary = s.stacks['conduit-prod-us-east-1']!;
  secondary = s.stacks['conduit-prod-us-west-2']!;
  edge = s.stacks['conduit-prod-edge']!;
  state = s.stacks['conduit-prod-state']!;
  single = synthDefinition(examples['single-region']!);
});

describe('stacks', () => {
  it('are the bootstrap state stack, one per region, and the edge, in apply order', () => {
    expect(Object.keys(s.stacks)).toEqual(['conduit-prod-state', 'conduit-prod-us-east-1', 'conduit-prod-us-west-2', 'conduit-prod-edge']);
    expect(Object.keys(single.stacks)).toEqual(['conduit-small-state', 'conduit-small-eu-west-1', 'conduit-small-edge']);
  });

  it('keep their state in the bootstrap bucket with S3 native locking; the bootstrap stack keeps local state', () => {
    for (const json of [primary, secondary, edge]) {
      expect(json.terraform?.backend?.s3).toMatchObject({ bucket: 'conduit-prod-tfstate-us-east-1', encrypt: true, use_lockfile: true, region: 'us-east-1' });
    }
    expect(state.terraform?.backend?.local).toBeDefined();
    const bucket = one(state, 'aws_s3_bucket', 'state_bucket');
    expect(bucket.bucket).toBe('conduit-prod-tfstate-us-east-1');
    expect(one(state, 'aws_s3_bucket_versioning', 'state_versioning').versioning_configuration.status).toBe('Enabled');
  });

  it('pin each region in its provider and tag everything', () => {
    const provider = (json: SynthJson) => (json as { provider: { aws: { region: string; default_tags: { tags: Record<string, string> }[] }[] } }).provider.aws[0]!;
    expect(provider(primary).region).toBe('us-east-1');
    expect(provider(secondary).region).toBe('us-west-2');
    expect(provider(edge).region).toBe('us-east-1');
    expect(provider(primary).default_tags[0]!.tags).toMatchObject({ Project: 'conduit-prod', Stack: 'conduit-prod-us-east-1' });
  });
});

describe('network', () => {
  it('has a VPC with public, private and isolated subnets in 3 zones, and a NAT per zone', () => {
    expect(one(primary, 'aws_vpc').cidr_block).toBe('10.0.0.0/16');
    expect(one(secondary, 'aws_vpc').cidr_block).toBe('10.16.0.0/16');
    const subnets = all(primary, 'aws_subnet').map(([, c]) => `${c.tags.Tier}:${c.availability_zone}`).sort();
    expect(subnets).toEqual(['isolated', 'private', 'public'].flatMap((t) => ['a', 'b', 'c'].map((z) => `${t}:us-east-1${z}`)));
    expect(all(primary, 'aws_nat_gateway')).toHaveLength(3);
    expect(all(primary, 'aws_subnet').every(([, c]) => c.map_public_ip_on_launch !== true)).toBe(true);
    const routes = all(primary, 'aws_route').map(([, c]) => c.nat_gateway_id ?? c.gateway_id);
    expect(routes.filter((r: string) => r.includes('aws_nat_gateway'))).toHaveLength(3);
  });

  it('logs flows and locks the default security group down', () => {
    expect(one(primary, 'aws_flow_log')).toMatchObject({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs' });
    expect(one(primary, 'aws_default_security_group')).toMatchObject({ ingress: [], egress: [] });
  });

  it('chains security groups: CloudFront and Route 53 health checkers (443 only) → ALB → instances → database/cache', () => {
    const rules = all(primary, 'aws_vpc_security_group_ingress_rule').map(([, c]) => c);
    expect(rules.filter((r) => r.cidr_ipv4 === '0.0.0.0/0' || r.cidr_ipv6 === '::/0')).toEqual([]);
    const lists = Object.values((primary as { data: Record<string, Record<string, { name: string }>> }).data.aws_ec2_managed_prefix_list!).map((d) => d.name).sort();
    expect(lists).toEqual(['com.amazonaws.global.cloudfront.origin-facing', 'com.amazonaws.us-east-1.route53-healthchecks']);
    const fromLists = rules.filter((r) => r.prefix_list_id);
    expect(fromLists.map((r) => `${r.from_port}:${/sg-(cdnOrigin|healthCheckers)/.exec(r.security_group_id)?.[1]}`).sort()).toEqual(['443:cdnOrigin', '443:healthCheckers']);
    for (const tier of ['front', 'api']) expect(one(primary, 'aws_lb', `${tier}_alb`).security_groups.join(' ')).toMatch(/sg-(front|api)Alb.*sg-cdnOrigin.*sg-healthCheckers/);
    const db = rules.find((r) => r.from_port === 3306)!;
    expect(db.security_group_id).toContain('sg-database');
    expect(db.referenced_security_group_id).toContain('sg-apiInstances');
    const cache = rules.find((r) => r.from_port === 6379)!;
    expect(cache.referenced_security_group_id).toContain('sg-apiInstances');
    const api = rules.find((r) => r.from_port === 3000)!;
    expect(api.referenced_security_group_id).toContain('sg-apiAlb');
  });
});

describe('front and API tiers', () => {
  it('put each ALB across the 3 public subnets with deletion protection, invalid-header drop and access logs', () => {
    for (const tier of ['front', 'api']) {
      const alb = one(primary, 'aws_lb', `${tier}_alb`);
      expect(alb).toMatchObject({ internal: false, enable_deletion_protection: true, drop_invalid_header_fields: true, load_balancer_type: 'application' });
      expect(alb.subnets).toHaveLength(3);
      expect(alb.access_logs).toMatchObject({ enabled: true, prefix: `alb/${tier}` });
    }
  });

  it('listen on HTTPS only, forwarding what carries CloudFront\'s secret header (and health checks of the readiness path)', () => {
    const listeners = all(primary, 'aws_lb_listener').map(([, c]) => c);
    expect(listeners).toHaveLength(2);
    expect(listeners.every((l) => l.protocol === 'HTTPS' && l.ssl_policy === 'ELBSecurityPolicy-TLS13-1-2-2021-06' && l.certificate_arn.includes('aws_acm_certificate_validation'))).toBe(true);
    expect(listeners.every((l) => l.default_action[0].type === 'fixed-response' && l.default_action[0].fixed_response.status_code === '403')).toBe(true);
    const rules = Object.fromEntries(all(primary, 'aws_lb_listener_rule').map(([n, c]) => [n.replace(/_[0-9A-F]+$/, ''), c]));
    expect(rules['api_from-cloudfront']!.condition[0].http_header).toMatchObject({ http_header_name: 'X-Origin-Verify' });
    expect(rules['api_from-cloudfront']!.condition[0].http_header.values[0]).toMatch(/aws_secretsmanager_secret_version\.origin-verify/);
    // Route 53 checks the API tier's region health (regions.dns.healthPath), the only path it may reach.
    expect(rules['api_health-checkers']!.condition[0].path_pattern.values).toEqual(['/health/region']);
    // The secondary region reads the replica of the same secret; CloudFront sends it to every origin.
    expect(one(secondary, 'aws_lb_listener_rule', 'api_from-cloudfront').condition[0].http_header.values[0]).toMatch(/data\.aws_secretsmanager_secret_version\.origin-verify/);
    const origins = one(edge, 'aws_cloudfront_distribution').origin;
    expect(origins.every((o: { custom_header: { name: string; value: string }[] }) => o.custom_header[0]!.name === 'X-Origin-Verify' && o.custom_header[0]!.value.includes('data.aws_secretsmanager_secret_version.origin-verify'))).toBe(true);
    const secret = all(primary, 'aws_secretsmanager_secret').map(([, c]) => c).find((c) => c.name === 'conduit-prod/edge/origin-verify')!;
    expect(secret.replica).toEqual([{ region: 'us-west-2' }]);
  });

  it('health-check liveness (/health/live) with a short deregistration delay, readiness being for DNS', () => {
    const tg = one(primary, 'aws_lb_target_group', 'api_targets');
    expect(tg).toMatchObject({ port: 3000, protocol: 'HTTP', deregistration_delay: '10' });
    // Liveness: what replaces instances (ELB health on the group) must not fail on a database failover.
    expect(tg.health_check).toMatchObject({ path: '/health/live', matcher: '200', interval: 5, healthy_threshold: 2, unhealthy_threshold: 2 });
    expect(one(primary, 'aws_autoscaling_group', 'api_asg')).toMatchObject({ health_check_type: 'ELB', health_check_grace_period: 300 });
    expect(one(primary, 'aws_lb_target_group', 'front_targets').deregistration_delay).toBe('5');
    expect(one(primary, 'aws_lb_target_group', 'front_targets').health_check.path).toBe('/');
  });

  it('launch instances with IMDSv2 (hop limit 1), no public IP, encrypted volumes and an instance profile', () => {
    const lt = one(primary, 'aws_launch_template', 'api_template');
    expect(lt.metadata_options).toMatchObject({ http_tokens: 'required', http_put_response_hop_limit: 1, http_endpoint: 'enabled' });
    expect(lt.network_interfaces[0].associate_public_ip_address).toBe('false');
    expect(lt.block_device_mappings[0].ebs).toMatchObject({ encrypted: 'true', volume_type: 'gp3' });
    expect(lt.instance_type).toBe('c7g.large');
    expect(lt.iam_instance_profile.arn).toContain('aws_iam_instance_profile');
    expect(lt.key_name).toBeUndefined();
    expect(lt.user_data).toMatch(/^\$\{base64encode\(/);
    expect(one(primary, 'aws_launch_template', 'front_template').instance_type).toBe('t4g.micro');
    // Graviton types boot the arm64 image.
    expect(all(primary, 'aws_launch_template').length).toBe(2);
    const amis = Object.values((primary as { data: Record<string, Record<string, { name: string }>> }).data.aws_ssm_parameter!).map((d) => d.name);
    expect(amis.every((n) => n.endsWith('arm64'))).toBe(true);
  });

  it('installs the release from the releases bucket and runs it under systemd with the endpoints in its environment', () => {
    const ud = one(primary, 'aws_launch_template', 'api_template').user_data as string;
    expect(ud).toContain('s3://${aws_s3_bucket.releases_bucket');
    expect(ud).toContain('/$tier/$version.tar.gz');
    expect(ud).toContain('RELEASE_VERSION=${var.release_version}');
    // The writer is this region's own cluster endpoint (writable while it is the writer region); the port a Terraform reference, not text.
    expect(ud).toMatch(/DATABASE_WRITER_URL=mysql:\/\/conduit_app:\$DB_PASSWORD@\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.endpoint\}:\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.port\}\/conduit\\n/);
    expect(ud).toMatch(/DATABASE_READER_URL=mysql:\/\/conduit_app:\$DB_PASSWORD@\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.reader_endpoint\}:\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.port\}\/conduit\\n/);
    expect(ud).toContain('DATABASE_TLS_CA=rds\\n');
    expect(ud).toContain("CACHE_PASSWORD=$(secret 'conduit-prod/cache/conduit-api-us-east-1')");
    // TLS, as the API's RBAC user (never the default user, which is off).
    expect(ud).toContain('REDIS_URL=rediss://conduit-api:$CACHE_PASSWORD@${aws_elasticache_replication_group.cache_group');
    expect(ud).toContain('PUBLIC_URL=https://${var.domain}');
    expect(ud).toContain('systemctl enable --now conduit-prod-api.service');
  });

  it('scale with ASGs sized from the definition: ELB health, warm-up, instance refresh, target tracking', () => {
    const asg = one(primary, 'aws_autoscaling_group', 'api_asg');
    expect(asg).toMatchObject({ max_size: 12, health_check_type: 'ELB', default_instance_warmup: 60 });
    // Sized from the definition, or empty while var.launch_instances is false (the first deploy).
    expect(asg.min_size).toBe('${var.launch_instances ? 3 : 0}');
    expect(asg.desired_capacity).toBe('${var.launch_instances ? 6 : 0}');
    expect(asg.vpc_zone_identifier).toHaveLength(3);
    expect(asg.instance_refresh).toMatchObject({ strategy: 'Rolling', preferences: { min_healthy_percentage: 90, auto_rollback: true } });
    expect(asg.lifecycle.ignore_changes).toContain('desired_capacity');
    expect(one(primary, 'aws_autoscaling_group', 'front_asg')).toMatchObject({ min_size: '${var.launch_instances ? 3 : 0}', desired_capacity: '${var.launch_instances ? 3 : 0}', max_size: 6 });
    const policies = all(primary, 'aws_autoscaling_policy').map(([, c]) => c.target_tracking_configuration);
    // The requests target is the capacity benchmark's knee × scaling.targetUtilisation (the example sets no rps), per minute.
    const derived = derivedTargetRps(measuredCapacity.knee.apiRpsPerInstance, 0.6);
    expect(s.def.scaling.targetRpsPerInstance).toBe(derived);
    expect(policies).toContainEqual(expect.objectContaining({ target_value: derived * 60, predefined_metric_specification: expect.objectContaining({ predefined_metric_type: 'ALBRequestCountPerTarget' }) }));
    expect(policies.filter((p) => p.predefined_metric_specification.predefined_metric_type === 'ASGAverageCPUUtilization').map((p) => p.target_value)).toEqual([60, 60]);
  });

  it('grant instances only what they use', () => {
    const api = JSON.parse(one(primary, 'aws_iam_role_policy', 'api_policy').policy);
    const actions = api.Statement.flatMap((st: { Action: string | string[] }) => ([] as string[]).concat(st.Action)).sort();
    expect(actions).toEqual(['es:ESHttpPost', 'es:ESHttpPut', 'kms:Decrypt', 'kms:Decrypt', 's3:GetObject', 'secretsmanager:GetSecretValue']);
    const front = JSON.parse(one(primary, 'aws_iam_role_policy', 'front_policy').policy);
    expect(front.Statement.map((st: { Sid: string }) => st.Sid)).toEqual(['ReadReleases', 'DecryptReleases', 'ShipLogs']);
  });
});

describe('database', () => {
  it('is an encrypted Aurora MySQL cluster with IAM auth, backups, deletion protection and a final snapshot', () => {
    const c = one(primary, 'aws_rds_cluster');
    expect(c).toMatchObject({
      engine: 'aurora-mysql', engine_version: '8.0.mysql_aurora.3.08.0', storage_encrypted: true, iam_database_authentication_enabled: true,
      backup_retention_period: 14, preferred_backup_window: '02:00-03:00', deletion_protection: true, skip_final_snapshot: false,
      copy_tags_to_snapshot: true, database_name: 'conduit',
    });
    expect(c.kms_key_id).toContain('aws_kms_key');
    expect(c.enabled_cloudwatch_logs_exports).toEqual(['audit', 'error', 'slowquery']);
    // A re-created cluster must not collide with the previous final snapshot; minor upgrades must not be undone.
    expect(c.final_snapshot_identifier).toBe('conduit-prod-us-east-1-final-${formatdate("YYYYMMDDhhmm", timestamp())}');
    expect(c.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['engine_version', 'final_snapshot_identifier']));
    // The log groups RDS would create unencrypted and unbounded exist first, with retention and the key.
    const groups = all(primary, 'aws_cloudwatch_log_group').map(([, g]) => g).filter((g) => g.name.startsWith('/aws/rds/cluster/'));
    expect(groups.map((g) => g.name).sort()).toEqual(['audit', 'error', 'slowquery'].map((t) => `/aws/rds/cluster/conduit-prod-us-east-1/${t}`));
    expect(groups.every((g) => g.retention_in_days === 90 && String(g.kms_key_id).includes('aws_kms_key'))).toBe(true);
    expect(c.depends_on).toHaveLength(3);
    expect((state as { terraform: { required_version: string } }).terraform.required_version).toBe('>= 1.10.0');
    expect(c.db_cluster_parameter_group_name).toContain('aws_rds_cluster_parameter_group');
  });

  it('has a writer and readers across the zones with enhanced monitoring, never public', () => {
    const instances = all(primary, 'aws_rds_cluster_instance').map(([, c]) => c);
    expect(instances.map((i) => i.availability_zone)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(instances.map((i) => i.promotion_tier)).toEqual([0, 1, 1]);
    expect(instances.every((i) => i.instance_class === 'db.r6g.xlarge' && i.publicly_accessible === false && i.monitoring_interval === 15 && i.performance_insights_enabled)).toBe(true);
  });

  it('forms an Aurora Global Database with the secondary region (master password in our secret: RDS cannot manage it there)', () => {
    const g = one(primary, 'aws_rds_global_cluster');
    expect(g).toMatchObject({ global_cluster_identifier: 'conduit-prod-global', engine: 'aurora-mysql', storage_encrypted: true });
    const c = one(primary, 'aws_rds_cluster');
    expect(c.global_cluster_identifier).toContain('aws_rds_global_cluster');
    // The secret holds {username, password} (what the Data API reads); the cluster gets the same generated value.
    expect(c.master_password).toMatch(/^\$\{data\.aws_secretsmanager_random_password\.database_master-secret_random_[0-9A-F]+\.random_password\}$/);
    expect(one(primary, 'aws_secretsmanager_secret_version', 'master-secret').secret_string).toMatch(/jsonencode\(\{"username" = "conduit_admin", "password" = /);
    expect(c.enable_http_endpoint).toBe(true);
    const sc = one(secondary, 'aws_rds_cluster');
    expect(sc).toMatchObject({ global_cluster_identifier: 'conduit-prod-global', storage_encrypted: true });
    expect(sc.enable_global_write_forwarding).toBeUndefined();
    // The secondary region's API writes to its own cluster endpoint too: 503 + Retry-After until a failover or
    // switchover makes it the writer (as the local standby region does), no re-apply afterwards.
    const ud = String(one(secondary, 'aws_launch_template', 'api_template').user_data);
    expect(ud).toMatch(/DATABASE_WRITER_URL=mysql:\/\/conduit_app:\$DB_PASSWORD@\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.endpoint\}:/);
    expect(Object.values((secondary as { data: Record<string, Record<string, { identifier?: string }>> }).data.aws_rds_global_cluster!)[0]!.identifier).toBe('conduit-prod-global');
    expect(String(one(single.stacks['conduit-small-eu-west-1']!, 'aws_launch_template', 'api_template').user_data)).toMatch(/DATABASE_WRITER_URL=[^\\]*\$\{aws_rds_cluster\.database_cluster_[0-9A-F]+\.endpoint\}:/);
    expect(sc.master_username).toBeUndefined();
    expect(all(secondary, 'aws_rds_cluster_instance')).toHaveLength(3);
  });

  it('uses an RDS-managed master password in Secrets Manager for a single region', () => {
    const c = one(single.stacks['conduit-small-eu-west-1']!, 'aws_rds_cluster');
    expect(c.manage_master_user_password).toBe(true);
    expect(c.master_user_secret_kms_key_id).toContain('aws_kms_key');
    expect(c.global_cluster_identifier).toBeUndefined();
  });

  it('requires TLS and keeps the application user secret, replicated to the secondary region', () => {
    const params = one(primary, 'aws_rds_cluster_parameter_group').parameter;
    expect(params).toContainEqual({ name: 'require_secure_transport', value: 'ON' });
    const secrets = all(primary, 'aws_secretsmanager_secret').map(([, c]) => c);
    const app = secrets.find((x) => x.name === 'conduit-prod/db/conduit_app')!;
    expect(app.replica).toEqual([{ region: 'us-west-2' }]);
    expect(app.kms_key_id).toContain('aws_kms_key');
  });
});

describe('cache', () => {
  it('is a Redis replication group with multi-AZ failover, TLS, RBAC users and encryption at rest', () => {
    const g = one(primary, 'aws_elasticache_replication_group');
    expect(g).toMatchObject({
      engine: 'redis', engine_version: REDIS_VERSION, node_type: 'cache.r7g.large', num_cache_clusters: 3, automatic_failover_enabled: true, multi_az_enabled: true,
      transit_encryption_enabled: true, at_rest_encryption_enabled: 'true', port: 6379,
    });
    expect(g.preferred_cache_cluster_azs).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(g.kms_key_id).toContain('aws_kms_key');
    // RBAC, not the AUTH token (which is the all-powerful default user): the group is attached, no token at all.
    expect(g.auth_token).toBeUndefined();
    expect(g.auth_token_update_strategy).toBeUndefined();
    expect(g.user_group_ids).toEqual([expect.stringMatching(/^\$\{aws_elasticache_user_group\.cache_users_\w+\.user_group_id\}$/)]);
  });

  it("gives the API's RBAC user exactly the definition's rules, and a user group whose default user is off", () => {
    for (const stack of [primary, secondary, single.stacks['conduit-small-eu-west-1']!]) {
      const users = all(stack, 'aws_elasticache_user').map(([, u]) => u);
      expect(users).toHaveLength(2);
      const api = users.find((u) => u.user_name === s.def.cacheAccess.api.user)!;
      // The same rules the local region writes into redis.conf (cacheAclRules), preceded by `on`.
      expect(api.access_string).toBe(`on ${cacheAclRules(s.def.cacheAccess.api)}`);
      expect(api.access_string).toBe('on ~conduit:* resetchannels -@all +get +set +del +exists +incr +pttl +pexpire +evalsha +eval +ping +info +role +hello +auth +select +client|setname');
      expect(api).toMatchObject({ engine: 'redis', authentication_mode: { type: 'password' } });
      expect(api.authentication_mode.passwords).toEqual([expect.stringMatching(/^\$\{aws_secretsmanager_secret_version\.cache_api-secret_value_\w+\.secret_string\}$/)]);
      const def = users.find((u) => u.user_name === 'default')!;
      expect(def.access_string).toBe('off -@all');
      // Not AWS's built-in user (ID `default`: on ~* +@all, no password): ours, with a password nobody is given.
      expect(def.user_id).not.toBe('default');
      expect(def.no_password_required).toBeUndefined();
      expect(def.authentication_mode.passwords).toEqual([expect.stringMatching(/^\$\{aws_secretsmanager_secret_version\.cache_default-secret_value_\w+\.secret_string\}$/)]);
      const group = one(stack, 'aws_elasticache_user_group');
      expect(group.engine).toBe('redis');
      expect(group.user_ids).toHaveLength(2);
      expect(group.user_ids).toEqual(expect.arrayContaining([expect.stringMatching(/cache_default-user_\w+\.user_id/), expect.stringMatching(/cache_api-user_\w+\.user_id/)]));
    }
  });

  it('refuses a command ElastiCache does not offer instead of failing at apply', () => {
    expect(() => rbacAccessString({ user: 'x', keys: 'x:*', commands: ['get', 'config|get'] })).toThrow(/ElastiCache does not offer config\|get/);
    expect(rbacAccessString({ user: 'x', keys: 'x:*', commands: ['get'] })).toBe('on ~x:* resetchannels -@all +get');
  });

  it("keeps each user's password in its own regional secret; the API instances read the API's only", () => {
    const names = all(primary, 'aws_secretsmanager_secret').map(([, c]) => c.name as string).filter((n) => n.includes('/cache/'));
    expect(names.sort()).toEqual(['conduit-prod/cache/conduit-api-us-east-1', 'conduit-prod/cache/default-us-east-1']);
    const read = JSON.parse(one(primary, 'aws_iam_role_policy', 'api_policy').policy).Statement.find((st: { Sid: string }) => st.Sid === 'ReadSecrets').Resource as string[];
    const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:\${data.aws_caller_identity.me.account_id}:secret:${name}-??????`;
    expect(read).toContain(secretArn('conduit-prod/cache/conduit-api-us-east-1'));
    expect(read).not.toContain(secretArn('conduit-prod/cache/default-us-east-1'));
    // Named secrets only (the 6 characters Secrets Manager appends), no prefix wildcard that would reach the default user's.
    expect(read.every((r) => r.endsWith('-??????') && !r.slice(0, -7).includes('*') && !r.slice(0, -7).includes('?'))).toBe(true);
  });
});

describe('dns', () => {
  it('has failover records with health checks for the two regions (TTL ≤ 60 s)', () => {
    const records = (json: SynthJson) => all(json, 'aws_route53_record').map(([, c]) => c).filter((c) => c.failover_routing_policy);
    const p = records(primary);
    const q = records(secondary);
    expect(p.map((r) => r.failover_routing_policy.type)).toEqual(['PRIMARY', 'PRIMARY']);
    expect(q.map((r) => r.failover_routing_policy.type)).toEqual(['SECONDARY', 'SECONDARY']);
    for (const r of [...p, ...q]) {
      expect(r.ttl).toBeLessThanOrEqual(60);
      expect(r.health_check_id).toContain('aws_route53_health_check');
    }
    expect(p.map((r) => r.name).sort()).toEqual(['api.origin.${var.domain}', 'front.origin.${var.domain}']);
    const hc = all(primary, 'aws_route53_health_check').map(([, c]) => c);
    // The API's check is the region health: 200 only while the region's writer takes writes.
    expect(hc.map((h) => h.resource_path).sort()).toEqual(['/', '/health/region']);
    expect(p.every((r) => r.ttl === 5)).toBe(true);
    // Readiness at the region level with its own threshold: 9 × 10 s = regions.failoverAfterSeconds (90 s), longer than a writer failover.
    expect(hc.every((h) => h.request_interval === 10 && h.failure_threshold === 9)).toBe(true);
    expect(hc.every((h) => h.type === 'HTTPS' && h.fqdn.includes('.us-east-1.'))).toBe(true);
  });
});

describe('backups and buckets', () => {
  it('back the cluster up with AWS Backup and copy each recovery point to the other region', () => {
    const plan = one(primary, 'aws_backup_plan');
    expect(plan.rule[0]).toMatchObject({ schedule: 'cron(0 3 * * ? *)', lifecycle: { delete_after: 14 } });
    expect(one(primary, 'aws_backup_vault_lock_configuration')).toMatchObject({ min_retention_days: 14, max_retention_days: 365 });
    expect(plan.rule[0].copy_action[0].destination_vault_arn).toMatch(/^arn:aws:backup:us-west-2:.*:backup-vault:conduit-prod-us-west-2$/);
    expect(one(primary, 'aws_backup_selection').resources[0]).toContain('aws_rds_cluster');
    expect(one(secondary, 'aws_backup_vault').name).toBe('conduit-prod-us-west-2');
    expect(all(secondary, 'aws_backup_plan')).toHaveLength(0);
  });

  it('keep releases, logs and backups buckets private, versioned, encrypted and with lifecycle rules', () => {
    const buckets = all(primary, 'aws_s3_bucket').map(([, c]) => c.bucket_prefix).sort();
    expect(buckets).toEqual(['conduit-prod-us-east-1-backups-', 'conduit-prod-us-east-1-logs-', 'conduit-prod-us-east-1-releases-']);
    expect(all(primary, 'aws_s3_bucket_public_access_block')).toHaveLength(3);
    const sse = Object.fromEntries(all(primary, 'aws_s3_bucket_server_side_encryption_configuration').map(([n, c]) => [n.split('_')[0], c.rule[0].apply_server_side_encryption_by_default.sse_algorithm]));
    expect(sse).toEqual({ releases: 'aws:kms', logs: 'AES256', backups: 'aws:kms' });
    const logs = one(primary, 'aws_s3_bucket_lifecycle_configuration', 'logs').rule[0];
    expect(logs.expiration[0].days).toBe(365);
  });
});

describe('observability', () => {
  it('alarms on 5xx, latency, unhealthy hosts, replica lag, CPU and freeable memory with the definition thresholds', () => {
    const alarms: Record<string, Record<string, any>> = Object.fromEntries(all(primary, 'aws_cloudwatch_metric_alarm').map(([, c]) => [c.alarm_name.replace('conduit-prod-us-east-1-', ''), c]));
    expect(Object.keys(alarms).sort()).toEqual([
      'api-5xx-percent', 'api-cpu', 'api-latency', 'api-unhealthy-hosts', 'cache-cpu', 'cache-freeable-memory',
      'db-cpu', 'db-freeable-memory', 'db-replica-lag', 'front-5xx-percent', 'front-cpu', 'front-latency', 'front-unhealthy-hosts', 'search-red',
    ]);
    expect(alarms['api-5xx-percent']!.threshold).toBe(1);
    expect(alarms['api-latency']).toMatchObject({ threshold: 0.5, extended_statistic: 'p99' });
    expect(alarms['db-replica-lag']!.threshold).toBe(5000);
    expect(alarms['db-freeable-memory']!.threshold).toBe(512 * 1024 * 1024);
    expect(alarms['api-cpu']!.threshold).toBe(80);
    expect(Object.values(alarms).every((a) => a.alarm_actions[0].includes('aws_sns_topic'))).toBe(true);
    const secondaryLag = all(secondary, 'aws_cloudwatch_metric_alarm').map(([, c]) => c).find((c) => c.alarm_name.endsWith('db-replica-lag'))!;
    expect(secondaryLag.metric_name).toBe('AuroraGlobalDBReplicationLag');
  });

  it('renders the alarm list the local region renders (observabilityAlarms): each alarm on both targets, or a reason', () => {
    const alarms = observabilityAlarms(s.def);
    const onAws = all(primary, 'aws_cloudwatch_metric_alarm').map(([, c]) => c.alarm_name.replace('conduit-prod-us-east-1-', '') as string).sort();
    const rules = prometheusRules(s.def);
    const onLocal = [...rules.matchAll(/alarm: ([\w-]+) \}/g)].map((m) => m[1]!).sort();
    expect(onAws).toEqual(alarms.filter((a) => a.aws.kind !== 'none').map((a) => a.id).sort());
    expect(onLocal).toEqual(alarms.filter((a) => a.local.kind !== 'none').map((a) => a.id).sort());
    // Together they are the whole list, and most alarms are on both; where one target has none, it says why.
    expect([...new Set([...onAws, ...onLocal])].sort()).toEqual(alarms.map((a) => a.id).sort());
    expect(onAws.filter((id) => onLocal.includes(id)).length).toBeGreaterThanOrEqual(9);
    for (const a of alarms) {
      if (a.aws.kind === 'none') expect(a.aws.why.length, a.id).toBeGreaterThan(20);
      if (a.local.kind === 'none') expect(rules).toContain(`#   ${a.id}: ${a.local.why}`);
    }
    // The same numbers: the local rule and the AWS alarm share the definition's threshold.
    const awsAlarm = (id: string) => all(primary, 'aws_cloudwatch_metric_alarm').map(([, c]) => c).find((c) => c.alarm_name.endsWith(`-${id}`))!;
    expect(awsAlarm('api-5xx-percent').threshold).toBe(s.def.observability.alarms.http5xxPercent);
    expect(rules).toContain(`[1m])), 1e-9) > ${s.def.observability.alarms.http5xxPercent}\n`);
    expect(awsAlarm('db-cpu').threshold).toBe(s.def.observability.alarms.cpuPercent);
    expect(rules).toContain(`conduit_process_cpu_percent{tier="db"} > ${s.def.observability.alarms.cpuPercent}\n`);
  });

  it('has a dashboard and an OpenSearch domain in the VPC, encrypted, TLS between nodes, HTTPS only', () => {
    const body = JSON.parse(one(primary, 'aws_cloudwatch_dashboard').dashboard_body);
    // The same panels the local console draws, each with its CloudWatch metrics.
    const panels = observabilityPanels(s.def).filter((p) => p.aws.length > 0);
    expect(body.widgets.map((w: { properties: { title: string } }) => w.properties.title)).toEqual(panels.map((p) => p.title));
    expect(body.widgets.find((w: { properties: { title: string } }) => w.properties.title === 'api: latency p50 / p99').properties.metrics.map((m: unknown[]) => m.at(-1)))
      .toEqual([{ stat: 'p50' }, { stat: 'p99' }]);
    const os = one(primary, 'aws_opensearch_domain');
    expect(os.encrypt_at_rest.enabled).toBe(true);
    expect(os.node_to_node_encryption.enabled).toBe(true);
    expect(os.domain_endpoint_options).toMatchObject({ enforce_https: true, tls_security_policy: 'Policy-Min-TLS-1-2-2019-07' });
    expect(os.vpc_options.subnet_ids).toHaveLength(3);
    expect(os.cluster_config).toMatchObject({ instance_count: 3, zone_awareness_enabled: true });
    const ud = one(primary, 'aws_launch_template', 'api_template').user_data as string;
    expect(ud).toContain('Host ${aws_opensearch_domain.search_domain');
  });
});

describe('edge', () => {
  it('serves the domain over TLS ≥ 1.2 with HTTP redirected, behind the WAF, with access logs', () => {
    const cf = one(edge, 'aws_cloudfront_distribution');
    expect(cf.aliases).toEqual(['${var.domain}']);
    expect(cf.viewer_certificate).toMatchObject({ minimum_protocol_version: 'TLSv1.2_2021', ssl_support_method: 'sni-only' });
    expect(cf.default_cache_behavior.viewer_protocol_policy).toBe('redirect-to-https');
    expect(cf.web_acl_id).toContain('aws_wafv2_web_acl');
    expect(cf.logging_config.bucket).toContain('aws_s3_bucket');
    expect((edge as { variable: Record<string, { default?: string }> }).variable.domain!.default).toBe('conduit.example.com');
  });

  it('sends /api/* to the API failover name, never cached (no purge on write there), the rest to the front origin group', () => {
    const cf = one(edge, 'aws_cloudfront_distribution');
    const api = cf.ordered_cache_behavior[0];
    expect(api).toMatchObject({ path_pattern: '/api/*', target_origin_id: 'api' });
    expect(api.allowed_methods).toContain('POST');
    const origins = Object.fromEntries(cf.origin.map((o: { origin_id: string; domain_name: string }) => [o.origin_id, o.domain_name]));
    expect(origins).toEqual({ 'front-primary': 'front.us-east-1.${var.domain}', 'front-secondary': 'front.us-west-2.${var.domain}', api: 'api.origin.${var.domain}' });
    // The managed CachingDisabled policy, and every viewer header (Origin, Authorization, CORS preflight headers) forwarded.
    expect(api.cache_policy_id).toBe(MANAGED.cachingDisabled);
    expect(api.origin_request_policy_id).toBe(MANAGED.allViewerExceptHostHeader);
    expect(api.allowed_methods).toContain('OPTIONS');
    expect(Object.keys(edge.resource?.aws_cloudfront_cache_policy ?? {})).toEqual(['front-cache']);
    expect(cf.origin_group[0]).toMatchObject({ origin_id: 'front', failover_criteria: { status_codes: [500, 502, 503, 504] } });
    expect(cf.default_cache_behavior.target_origin_id).toBe('front');
    expect(cf.default_cache_behavior.function_association[0].function_arn).toContain('aws_cloudfront_function');
  });

  it('has a WAF with the common, known-bad-inputs and SQLi rule groups and a rate limit from the definition', () => {
    const waf = one(edge, 'aws_wafv2_web_acl');
    expect(waf.scope).toBe('CLOUDFRONT');
    const rules = JSON.parse(waf.rule_json) as { Name: string; Statement: Record<string, { Name?: string; Limit?: number }> }[];
    expect(rules.map((r) => r.Statement.ManagedRuleGroupStatement?.Name ?? `rate ${r.Statement.RateBasedStatement!.Limit}`)).toEqual([
      'rate 2000', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesSQLiRuleSet',
    ]);
    expect(one(edge, 'aws_wafv2_web_acl_logging_configuration').log_destination_configs[0]).toContain('aws_cloudwatch_log_group');
  });

  it('has no origin group with a single region', () => {
    const cf = one(single.stacks['conduit-small-edge']!, 'aws_cloudfront_distribution');
    expect(cf.origin_group).toBeUndefined();
    expect(cf.default_cache_behavior.target_origin_id).toBe('front-primary');
    const small = single.stacks['conduit-small-eu-west-1']!;
    expect(all(small, 'aws_nat_gateway')).toHaveLength(2);
    expect(one(small, 'aws_backup_plan').rule[0].copy_action).toBeUndefined();
  });
});

describe('the secondary region as a warm standby (regions.secondaryScale)', () => {
  it('sizes the secondary stack\'s groups and Aurora readers from it, as the local standby region does; the primary keeps the definition\'s', () => {
    const complete = examples.complete!;
    const warm = synthDefinition({ ...complete, regions: { ...complete.regions!, secondaryScale: { front: 1, api: 2, databaseReplicas: 1 } } });
    const wp = warm.stacks['conduit-prod-us-east-1']!;
    const ws = warm.stacks['conduit-prod-us-west-2']!;
    expect(one(ws, 'aws_autoscaling_group', 'api_asg')).toMatchObject({ min_size: '${var.launch_instances ? 2 : 0}', desired_capacity: '${var.launch_instances ? 2 : 0}', max_size: 12 });
    expect(one(ws, 'aws_autoscaling_group', 'front_asg')).toMatchObject({ min_size: '${var.launch_instances ? 1 : 0}', desired_capacity: '${var.launch_instances ? 1 : 0}', max_size: 6 });
    expect(all(ws, 'aws_rds_cluster_instance')).toHaveLength(2);
    expect(one(wp, 'aws_autoscaling_group', 'api_asg').desired_capacity).toBe('${var.launch_instances ? 6 : 0}');
    expect(all(wp, 'aws_rds_cluster_instance')).toHaveLength(3);
    // Unset, the secondary runs the primary's sizes.
    expect(one(secondary, 'aws_autoscaling_group', 'api_asg').desired_capacity).toBe('${var.launch_instances ? 6 : 0}');
  });
});
