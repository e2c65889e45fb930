// Policy rules as data: each rule reads one synthesized stack (cdk.tf.json) and returns its violations.
// Ids mirror the Checkov rule where one exists (CKV_AWS_*, CKV2_AWS_*); TIER_* rules cover what this
// architecture promises beyond Checkov (multi-AZ spread, failover, instance refresh, TLS-only buckets…).
// Rules never assume a resource exists: a stack without, say, a load balancer has nothing to violate.

/** A synthesized stack: the JSON Terraform reads. */
export interface SynthJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  terraform?: { backend?: Record<string, Record<string, unknown>> };
}

export interface RuleContext {
  /** Availability zones per region (definition `zones`). */
  zones: number;
  /** Two regions: origin failover, Global Database and cross-region backup copies are expected. */
  multiRegion: boolean;
  /** backup.copyToSecondary. */
  copyBackups: boolean;
}

export interface Violation {
  rule: string;
  /** Terraform address, e.g. aws_rds_cluster.database_cluster_1A2B. */
  address: string;
  message: string;
}

export interface PolicyRule {
  id: string;
  title: string;
  check(json: SynthJson, ctx: RuleContext): Violation[];
}

type Config = Record<string, unknown>;

const resources = (json: SynthJson, type: string): [string, Config][] =>
  Object.entries(json.resource?.[type] ?? {}).map(([name, c]) => [`${type}.${name}`, c]);

const yes = (v: unknown) => v === true || v === 'true';
const first = (v: unknown): Config | undefined => (Array.isArray(v) ? (v[0] as Config | undefined) : (v as Config | undefined));
const list = (v: unknown): Config[] => (Array.isArray(v) ? (v as Config[]) : v && typeof v === 'object' ? [v as Config] : []);
const set = (v: unknown) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** A rule that checks every resource of one type with a predicate. */
function each(id: string, title: string, type: string, ok: (c: Config, ctx: RuleContext, json: SynthJson) => boolean): PolicyRule {
  return {
    id,
    title,
    check: (json, ctx) =>
      resources(json, type)
        .filter(([, c]) => !ok(c, ctx, json))
        .map(([address]) => ({ rule: id, address, message: `${address}: ${title}` })),
  };
}

function statements(policy: unknown): { Effect?: string; Action?: unknown; Principal?: unknown; Resource?: unknown; Condition?: unknown }[] {
  if (typeof policy !== 'string') return [];
  try {
    const doc = JSON.parse(policy) as { Statement?: unknown };
    return list(doc.Statement) as ReturnType<typeof statements>;
  } catch {
    return [];
  }
}
const asArray = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

const wafRules = (c: Config): { Name?: string; Statement?: Record<string, Record<string, unknown>> }[] => {
  try {
    return JSON.parse(String(c.rule_json ?? '[]')) as ReturnType<typeof wafRules>;
  } catch {
    return [];
  }
};

const bucketNames = (json: SynthJson) => resources(json, 'aws_s3_bucket').map(([address]) => address);
/** Per-bucket companion resources (public access block, versioning…) refer to the bucket by `${aws_s3_bucket.X.id}`. */
function everyBucketHas(id: string, title: string, type: string, ok: (c: Config) => boolean): PolicyRule {
  return {
    id,
    title,
    check: (json) => {
      const covered = new Set(resources(json, type).filter(([, c]) => ok(c)).map(([, c]) => String(c.bucket).replace(/^\$\{(aws_s3_bucket\.[^.]+)\..*\}$/, '$1')));
      return bucketNames(json).filter((b) => !covered.has(b)).map((address) => ({ rule: id, address, message: `${address}: ${title}` }));
    },
  };
}

const TLS12_POLICIES = /TLS13|TLS-1-2/;

export const policyRules: PolicyRule[] = [
  // ── Aurora ──────────────────────────────────────────────────────────────
  each('CKV_AWS_96', 'Aurora cluster storage is encrypted', 'aws_rds_cluster', (c) => yes(c.storage_encrypted)),
  each('CKV_AWS_327', 'Aurora cluster is encrypted with a customer-managed KMS key', 'aws_rds_cluster', (c) => set(c.kms_key_id)),
  each('CKV_AWS_139', 'Aurora cluster has deletion protection', 'aws_rds_cluster', (c) => yes(c.deletion_protection)),
  each('CKV_AWS_162', 'Aurora cluster has IAM database authentication', 'aws_rds_cluster', (c) => yes(c.iam_database_authentication_enabled)),
  each('CKV_AWS_313', 'Aurora cluster copies tags to snapshots', 'aws_rds_cluster', (c) => yes(c.copy_tags_to_snapshot)),
  each('CKV_AWS_324', 'Aurora cluster exports its logs to CloudWatch', 'aws_rds_cluster', (c) => set(c.enabled_cloudwatch_logs_exports)),
  each('CKV_AWS_133', 'Aurora backups are kept at least 7 days (stricter than Checkov\'s > 0)', 'aws_rds_cluster', (c) => Number(c.backup_retention_period) >= 7),
  each('TIER_RDS_FINAL_SNAPSHOT', 'Aurora cluster takes a final snapshot on deletion', 'aws_rds_cluster', (c) => c.skip_final_snapshot === false && set(c.final_snapshot_identifier)),
  each('TIER_RDS_GLOBAL', 'with two regions, every Aurora cluster is a member of the Global Database', 'aws_rds_cluster', (c, ctx) => !ctx.multiRegion || set(c.global_cluster_identifier)),
  each('TIER_RDS_REQUIRE_TLS', 'Aurora cluster parameters require TLS (require_secure_transport=ON)', 'aws_rds_cluster_parameter_group', (c) =>
    list(c.parameter).some((p) => p.name === 'require_secure_transport' && String(p.value).toUpperCase() === 'ON')),
  each('CKV_AWS_17', 'database instances are not publicly accessible', 'aws_rds_cluster_instance', (c) => c.publicly_accessible === false),
  each('CKV_AWS_118', 'database instances have enhanced monitoring', 'aws_rds_cluster_instance', (c) => Number(c.monitoring_interval) > 0 && set(c.monitoring_role_arn)),
  each('CKV_AWS_353', 'database instances have Performance Insights', 'aws_rds_cluster_instance', (c) => yes(c.performance_insights_enabled)),
  each('CKV_AWS_354', 'Performance Insights data is encrypted with a customer-managed key', 'aws_rds_cluster_instance', (c) => !yes(c.performance_insights_enabled) || set(c.performance_insights_kms_key_id)),
  each('CKV_AWS_226', 'database instances take minor version upgrades', 'aws_rds_cluster_instance', (c) => yes(c.auto_minor_version_upgrade)),
  {
    id: 'CKV_AWS_157',
    title: 'database instances are spread over several availability zones',
    check: (json, ctx) => {
      const instances = resources(json, 'aws_rds_cluster_instance');
      const zones = new Set(instances.map(([, c]) => c.availability_zone));
      const need = Math.min(ctx.zones, instances.length, 2);
      return instances.length > 0 && zones.size < need
        ? [{ rule: 'CKV_AWS_157', address: instances[0]![0], message: `database instances use ${zones.size} zone(s), expected at least ${need}` }]
        : [];
    },
  },

  // ── Instances and Auto Scaling ──────────────────────────────────────────
  each('CKV_AWS_79', 'launch templates require IMDSv2', 'aws_launch_template', (c) => first(c.metadata_options)?.http_tokens === 'required'),
  each('TIER_IMDS_HOP_LIMIT', 'instance metadata is not reachable from containers (hop limit 1)', 'aws_launch_template', (c) => Number(first(c.metadata_options)?.http_put_response_hop_limit) === 1),
  each('CKV_AWS_88', 'instances get no public IP', 'aws_launch_template', (c) => list(c.network_interfaces).length > 0 && list(c.network_interfaces).every((n) => n.associate_public_ip_address === 'false' || n.associate_public_ip_address === false)),
  each('CKV_AWS_8', 'instance volumes are encrypted', 'aws_launch_template', (c) => list(c.block_device_mappings).length > 0 && list(c.block_device_mappings).every((b) => yes(first(b.ebs)?.encrypted))),
  each('TIER_EC2_NO_SSH_KEY', 'instances have no SSH key pair (Session Manager only)', 'aws_launch_template', (c) => !set(c.key_name)),
  each('CKV_AWS_315', 'Auto Scaling groups launch from a launch template', 'aws_autoscaling_group', (c) => set(first(c.launch_template)?.id) && !set(c.launch_configuration)),
  each('CKV_AWS_153', 'Auto Scaling groups propagate tags to instances', 'aws_autoscaling_group', (c) => list(c.tag).some((t) => yes(t.propagate_at_launch))),
  each('TIER_ASG_ELB_HEALTH', 'Auto Scaling groups replace instances the load balancer finds unhealthy', 'aws_autoscaling_group', (c) => c.health_check_type === 'ELB'),
  each('TIER_ASG_MULTI_AZ', 'Auto Scaling groups span every zone', 'aws_autoscaling_group', (c, ctx) => asArray(c.vpc_zone_identifier).length >= ctx.zones),
  each('TIER_ASG_ROLLING', 'Auto Scaling groups roll deploys with an instance refresh and warm-up', 'aws_autoscaling_group', (c) => set(first(c.instance_refresh)?.strategy) && Number(c.default_instance_warmup) > 0),

  // ── Load balancers ──────────────────────────────────────────────────────
  each('CKV_AWS_131', 'load balancers drop invalid HTTP headers', 'aws_lb', (c) => yes(c.drop_invalid_header_fields)),
  each('CKV_AWS_150', 'load balancers have deletion protection', 'aws_lb', (c) => yes(c.enable_deletion_protection)),
  each('CKV_AWS_91', 'load balancers write access logs', 'aws_lb', (c) => yes(first(c.access_logs)?.enabled) && set(first(c.access_logs)?.bucket)),
  each('TIER_ALB_MULTI_AZ', 'load balancers span every zone', 'aws_lb', (c, ctx) => asArray(c.subnets).length >= ctx.zones),
  each('CKV_AWS_103', 'HTTPS listeners use a TLS 1.2+ policy', 'aws_lb_listener', (c) => c.protocol !== 'HTTPS' || TLS12_POLICIES.test(String(c.ssl_policy ?? ''))),
  each('CKV_AWS_2', 'plain-HTTP listeners only redirect to HTTPS', 'aws_lb_listener', (c) =>
    c.protocol === 'HTTPS' || list(c.default_action).every((a) => a.type === 'redirect' && first(a.redirect)?.protocol === 'HTTPS')),
  each('CKV_AWS_261', 'target groups define a health check', 'aws_lb_target_group', (c) => yes(first(c.health_check)?.enabled) && set(first(c.health_check)?.path)),

  // ── Cache ───────────────────────────────────────────────────────────────
  each('CKV2_AWS_50', 'Redis replication groups fail over automatically across zones', 'aws_elasticache_replication_group', (c) => yes(c.automatic_failover_enabled) && yes(c.multi_az_enabled)),
  each('CKV_AWS_29', 'Redis data is encrypted at rest', 'aws_elasticache_replication_group', (c) => yes(c.at_rest_encryption_enabled)),
  each('CKV_AWS_30', 'Redis traffic is encrypted in transit', 'aws_elasticache_replication_group', (c) => yes(c.transit_encryption_enabled)),
  // Checkov's CKV_AWS_31 asks for an AUTH token; RBAC (a user group whose default user is off) replaces it and is
  // stricter: the token is the default user, every command on every key.
  each('CKV_AWS_31', 'Redis requires authentication (an AUTH token or an RBAC user group)', 'aws_elasticache_replication_group', (c) => yes(c.transit_encryption_enabled) && (set(c.auth_token) || set(c.user_group_ids))),
  each('CKV_AWS_191', 'Redis is encrypted with a customer-managed key', 'aws_elasticache_replication_group', (c) => set(c.kms_key_id)),

  // ── Edge ────────────────────────────────────────────────────────────────
  each('CKV_AWS_174', 'CloudFront accepts TLS 1.2+ only', 'aws_cloudfront_distribution', (c) => /^TLSv1\.2/.test(String(first(c.viewer_certificate)?.minimum_protocol_version ?? ''))),
  each('CKV_AWS_34', 'CloudFront sends HTTP viewers to HTTPS', 'aws_cloudfront_distribution', (c) =>
    [first(c.default_cache_behavior), ...list(c.ordered_cache_behavior)].every((b) => b !== undefined && b.viewer_protocol_policy !== 'allow-all')),
  each('CKV_AWS_68', 'CloudFront is protected by a WAF web ACL', 'aws_cloudfront_distribution', (c) => set(c.web_acl_id)),
  each('CKV_AWS_86', 'CloudFront writes access logs', 'aws_cloudfront_distribution', (c) => set(first(c.logging_config)?.bucket)),
  each('CKV_AWS_310', 'CloudFront fails over to the secondary region\'s origin', 'aws_cloudfront_distribution', (c, ctx) => !ctx.multiRegion || list(c.origin_group).length > 0),
  each('TIER_CF_ORIGIN_TLS', 'CloudFront reaches its origins over HTTPS with TLS 1.2 only', 'aws_cloudfront_distribution', (c) =>
    list(c.origin).every((o) => first(o.custom_origin_config)?.origin_protocol_policy === 'https-only' && asArray(first(o.custom_origin_config)?.origin_ssl_protocols).every((p) => p === 'TLSv1.2'))),
  each('CKV2_AWS_47', 'the WAF includes the known-bad-inputs (Log4j) managed rule group', 'aws_wafv2_web_acl', (c) =>
    wafRules(c).some((r) => r.Statement?.ManagedRuleGroupStatement?.Name === 'AWSManagedRulesKnownBadInputsRuleSet')),
  each('TIER_WAF_MANAGED_RULES', 'the WAF includes the common and SQL-injection managed rule groups', 'aws_wafv2_web_acl', (c) =>
    ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesSQLiRuleSet'].every((g) => wafRules(c).some((r) => r.Statement?.ManagedRuleGroupStatement?.Name === g))),
  each('TIER_WAF_RATE_LIMIT', 'the WAF limits the request rate per client IP', 'aws_wafv2_web_acl', (c) => wafRules(c).some((r) => r.Statement?.RateBasedStatement !== undefined)),
  {
    id: 'CKV2_AWS_31',
    title: 'every WAF web ACL has logging configured',
    check: (json) => {
      const logged = new Set(resources(json, 'aws_wafv2_web_acl_logging_configuration').filter(([, c]) => set(c.log_destination_configs)).map(([, c]) => String(c.resource_arn)));
      return resources(json, 'aws_wafv2_web_acl')
        .filter(([address]) => ![...logged].some((arn) => arn.includes(`${address}.arn`)))
        .map(([address]) => ({ rule: 'CKV2_AWS_31', address, message: `${address}: no logging configuration` }));
    },
  },

  // ── S3 ──────────────────────────────────────────────────────────────────
  everyBucketHas('CKV2_AWS_6', 'buckets block every kind of public access', 'aws_s3_bucket_public_access_block', (c) =>
    ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].every((k) => yes(c[k]))),
  everyBucketHas('CKV_AWS_21', 'buckets keep object versions', 'aws_s3_bucket_versioning', (c) => first(c.versioning_configuration)?.status === 'Enabled'),
  everyBucketHas('CKV_AWS_19', 'buckets encrypt objects at rest', 'aws_s3_bucket_server_side_encryption_configuration', (c) =>
    list(c.rule).some((r) => set(first(r.apply_server_side_encryption_by_default)?.sse_algorithm))),
  everyBucketHas('CKV2_AWS_61', 'buckets have lifecycle rules', 'aws_s3_bucket_lifecycle_configuration', (c) => list(c.rule).some((r) => r.status === 'Enabled')),
  everyBucketHas('TIER_S3_TLS_ONLY', 'bucket policies refuse plain-HTTP requests', 'aws_s3_bucket_policy', (c) =>
    statements(c.policy).some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition ?? {}).includes('"aws:SecureTransport":false'))),

  // ── Network ─────────────────────────────────────────────────────────────
  each('CKV2_AWS_12', 'the default security group allows no traffic', 'aws_default_security_group', (c) => list(c.ingress).length === 0 && list(c.egress).length === 0),
  {
    id: 'CKV2_AWS_11',
    title: 'every VPC has flow logs',
    check: (json) => {
      const logged = resources(json, 'aws_flow_log').map(([, c]) => String(c.vpc_id ?? ''));
      return resources(json, 'aws_vpc')
        .filter(([address]) => !logged.some((v) => v.includes(`${address}.id`)))
        .map(([address]) => ({ rule: 'CKV2_AWS_11', address, message: `${address}: no flow log` }));
    },
  },
  {
    id: 'TIER_NAT_PER_ZONE',
    title: 'one NAT gateway per zone',
    check: (json, ctx) => {
      const vpcs = resources(json, 'aws_vpc').length;
      const nats = resources(json, 'aws_nat_gateway').filter(([, c]) => c.count !== 0).length;
      return vpcs > 0 && nats < vpcs * ctx.zones ? [{ rule: 'TIER_NAT_PER_ZONE', address: 'aws_nat_gateway', message: `${nats} NAT gateway(s) for ${vpcs * ctx.zones} zone(s)` }] : [];
    },
  },
  each('CKV_AWS_24', 'no ingress from 0.0.0.0/0 to SSH (22)', 'aws_vpc_security_group_ingress_rule', (c) => !(c.cidr_ipv4 === '0.0.0.0/0' && Number(c.from_port) <= 22 && Number(c.to_port) >= 22)),
  each('CKV_AWS_25', 'no ingress from 0.0.0.0/0 to RDP (3389)', 'aws_vpc_security_group_ingress_rule', (c) => !(c.cidr_ipv4 === '0.0.0.0/0' && Number(c.from_port) <= 3389 && Number(c.to_port) >= 3389)),
  each('TIER_SG_WORLD_WEB_ONLY', '0.0.0.0/0 ingress only on 80/443 of a load balancer group', 'aws_vpc_security_group_ingress_rule', (c) =>
    (c.cidr_ipv4 !== '0.0.0.0/0' && c.cidr_ipv6 !== '::/0') ||
    ([80, 443].includes(Number(c.from_port)) && c.from_port === c.to_port && /sg-(front|api)Alb/.test(String(c.security_group_id)))),
  each('CKV_AWS_23', 'security groups describe themselves', 'aws_security_group', (c) => set(c.description)),
  each('TIER_SG_RULE_DESCRIPTION', 'security group rules say why they exist', 'aws_vpc_security_group_ingress_rule', (c) => set(c.description)),

  // ── Keys, logs, secrets, notifications ──────────────────────────────────
  each('CKV_AWS_7', 'KMS keys rotate', 'aws_kms_key', (c) => yes(c.enable_key_rotation)),
  each('CKV_AWS_33', 'KMS key policies name their principals (no wildcard)', 'aws_kms_key', (c) =>
    statements(c.policy).every((s) => s.Effect !== 'Allow' || (s.Principal !== '*' && !asArray((s.Principal as Record<string, unknown> | undefined)?.AWS).includes('*')))),
  each('CKV_AWS_158', 'log groups are encrypted with a customer-managed key', 'aws_cloudwatch_log_group', (c) => set(c.kms_key_id)),
  each('CKV_AWS_66', 'log groups have a retention period', 'aws_cloudwatch_log_group', (c) => Number(c.retention_in_days) > 0),
  each('CKV_AWS_149', 'secrets are encrypted with a customer-managed key', 'aws_secretsmanager_secret', (c) => set(c.kms_key_id)),
  each('CKV_AWS_26', 'SNS topics are encrypted', 'aws_sns_topic', (c) => set(c.kms_master_key_id)),
  {
    id: 'CKV_AWS_63',
    title: 'inline IAM policies grant no wildcard action',
    check: (json) =>
      resources(json, 'aws_iam_role_policy')
        .filter(([, c]) => statements(c.policy).some((s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => a === '*' || a.endsWith(':*'))))
        .map(([address]) => ({ rule: 'CKV_AWS_63', address, message: `${address}: grants a wildcard action` })),
  },
  {
    id: 'CKV_AWS_355',
    title: 'inline IAM policies scope restrictable actions to named resources',
    // Like Checkov: Describe*/List* and tag:GetResources support no resource-level permission, so only `*` fits them.
    check: (json) =>
      resources(json, 'aws_iam_role_policy')
        .filter(([, c]) => statements(c.policy).some((s) => s.Effect === 'Allow' && asArray(s.Resource).includes('*') &&
          asArray(s.Action).some((a) => !/^[a-z0-9-]+:(Describe|List)[A-Za-z]*$/.test(a) && a !== 'tag:GetResources')))
        .map(([address]) => ({ rule: 'CKV_AWS_355', address, message: `${address}: grants on Resource "*"` })),
  },

  // ── Log search (OpenSearch) ─────────────────────────────────────────────
  each('CKV_AWS_5', 'the search domain is encrypted at rest', 'aws_opensearch_domain', (c) => yes(first(c.encrypt_at_rest)?.enabled)),
  each('CKV_AWS_6', 'search nodes talk TLS to each other', 'aws_opensearch_domain', (c) => yes(first(c.node_to_node_encryption)?.enabled)),
  each('CKV_AWS_83', 'the search domain accepts HTTPS only', 'aws_opensearch_domain', (c) => yes(first(c.domain_endpoint_options)?.enforce_https)),
  each('CKV_AWS_228', 'the search domain requires TLS 1.2+', 'aws_opensearch_domain', (c) => /TLS-1-2/.test(String(first(c.domain_endpoint_options)?.tls_security_policy ?? ''))),
  each('CKV_AWS_137', 'the search domain lives in the VPC', 'aws_opensearch_domain', (c) => set(first(c.vpc_options)?.subnet_ids)),
  each('CKV_AWS_84', 'the search domain publishes its logs', 'aws_opensearch_domain', (c) => list(c.log_publishing_options).some((o) => o.enabled !== false)),
  each('CKV_AWS_318', 'the search domain spreads over zones', 'aws_opensearch_domain', (c, ctx) => ctx.zones < 2 || yes(first(c.cluster_config)?.zone_awareness_enabled)),
  each('CKV2_AWS_52', 'the search domain has fine-grained access control', 'aws_opensearch_domain', (c) => yes(first(c.advanced_security_options)?.enabled)),

  // ── Backups, DNS, state ─────────────────────────────────────────────────
  each('CKV_AWS_166', 'backup vaults are encrypted with a customer-managed key', 'aws_backup_vault', (c) => set(c.kms_key_arn)),
  each('TIER_BACKUP_COPY', 'backups are copied to the other region', 'aws_backup_plan', (c, ctx) =>
    !ctx.copyBackups || list(c.rule).every((r) => list(r.copy_action).some((a) => set(a.destination_vault_arn)))),
  each('TIER_DNS_FAILOVER', 'failover records are health-checked with a TTL of at most 60 s', 'aws_route53_record', (c) =>
    !set(c.failover_routing_policy) || (set(c.health_check_id) && Number(c.ttl) <= 60)),
  {
    id: 'TIER_STATE_LOCKING',
    title: 'remote state is encrypted and locked (S3 native lock file)',
    check: (json) => {
      const s3 = json.terraform?.backend?.s3;
      if (!s3) return [];
      return yes(s3.encrypt) && yes(s3.use_lockfile) ? [] : [{ rule: 'TIER_STATE_LOCKING', address: 'terraform.backend.s3', message: 'state backend without encryption or locking' }];
    },
  },
];

/** Every violation of every rule in one stack. */
export function checkStack(json: SynthJson, ctx: RuleContext, rules: PolicyRule[] = policyRules): Violation[] {
  return rules.flatMap((r) => r.check(json, ctx));
}
