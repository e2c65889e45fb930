// The global entry point (us-east-1, where CloudFront certificates and CLOUDFRONT-scope WAF live):
// CloudFront with TLS >= 1.2 and HTTP→HTTPS, a WAF (managed common / known-bad-inputs / SQLi rule groups and
// a per-IP rate limit), access logs; /api/* goes to the API's Route 53 failover name (every method, never
// cached: see the README's "What CloudFront caches"), everything else to the front origin group (primary region, failover to the
// secondary) with the SPA fallback.
import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktn';
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsRoute53Zone } from '@cdktn/provider-aws/lib/data-aws-route53-zone/index.js';
import { CloudfrontDistribution, type CloudfrontDistributionOrigin } from '@cdktn/provider-aws/lib/cloudfront-distribution/index.js';
import { CloudfrontFunction } from '@cdktn/provider-aws/lib/cloudfront-function/index.js';
import { CloudfrontCachePolicy } from '@cdktn/provider-aws/lib/cloudfront-cache-policy/index.js';
import { Wafv2WebAcl } from '@cdktn/provider-aws/lib/wafv2-web-acl/index.js';
import { Wafv2WebAclLoggingConfiguration } from '@cdktn/provider-aws/lib/wafv2-web-acl-logging-configuration/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { Route53Record } from '@cdktn/provider-aws/lib/route53-record/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import { DataAwsSecretsmanagerSecretVersion } from '@cdktn/provider-aws/lib/data-aws-secretsmanager-secret-version/index.js';
import { EDGE_REGION, LOG_OBJECT_EXPIRY_DAYS, originSecretNameFor, type AwsSettings } from '../settings.js';
import { ORIGIN_HEADER } from '../constructs/tier.js';
import { SecureBucket } from '../constructs/bucket.js';
import { RegionKey } from '../constructs/kms.js';
import { ValidatedCertificate, failoverName, regionalName } from '../constructs/dns.js';
import { awsProvider, domainVariable, remoteState } from './common.js';

/** AWS managed policies (stable ids documented by CloudFront). */
export const MANAGED = {
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  allViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
  securityHeaders: '67f7725c-6f97-4210-82d7-5512b31e9d03',
} as const;

/** SPA fallback: a path without a file extension is a client-side route, served by /index.html. */
export const SPA_FALLBACK_JS = [
  'function handler(event) {',
  '  var request = event.request;',
  "  if (request.uri.indexOf('.') === -1) { request.uri = '/index.html'; }",
  '  return request;',
  '}',
].join('\n');

export function wafRules(rateLimitPer5Min: number, metricPrefix: string): object[] {
  const visibility = (name: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: `${metricPrefix}-${name}` });
  const managed = (name: string, priority: number, group: string, overrides: string[] = []) => ({
    Name: name,
    Priority: priority,
    OverrideAction: { None: {} },
    Statement: {
      ManagedRuleGroupStatement: {
        VendorName: 'AWS',
        Name: group,
        ...(overrides.length ? { RuleActionOverrides: overrides.map((r) => ({ Name: r, ActionToUse: { Count: {} } })) } : {}),
      },
    },
    VisibilityConfig: visibility(name),
  });
  return [
    { Name: 'rate-limit', Priority: 1, Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: rateLimitPer5Min, AggregateKeyType: 'IP' } }, VisibilityConfig: visibility('rate-limit') },
    // Article bodies may exceed the common rule set's 8 KB body limit: that one rule only counts.
    managed('aws-common', 10, 'AWSManagedRulesCommonRuleSet', ['SizeRestrictions_BODY']),
    managed('aws-known-bad-inputs', 20, 'AWSManagedRulesKnownBadInputsRuleSet'),
    managed('aws-sqli', 30, 'AWSManagedRulesSQLiRuleSet'),
  ];
}

export class EdgeStack extends TerraformStack {
  readonly distribution: CloudfrontDistribution;
  constructor(scope: Construct, id: string, def: ResolvedDefinition, settings: AwsSettings) {
    super(scope, id);
    awsProvider(this, def, id, EDGE_REGION);
    remoteState(this, settings, id, def.regions.primary);
    const domain = domainVariable(this, def);
    const me = new DataAwsCallerIdentity(this, 'me');
    const key = new RegionKey(this, 'key', { name: def.name, region: EDGE_REGION, accountId: me.accountId, alias: `${def.name}-edge` }).key;
    const zone = new DataAwsRoute53Zone(this, 'zone', { name: domain, privateZone: false });
    const certificate = new ValidatedCertificate(this, 'certificate', { domainName: domain, alternativeNames: [], zoneId: zone.zoneId });

    const logs = new SecureBucket(this, 'logs', {
      bucketPrefix: `${def.name}-edge-logs-`, encryption: 'sse-s3', expireAfterDays: Math.max(LOG_OBJECT_EXPIRY_DAYS, def.observability.logRetentionDays), aclWriters: true,
    });

    const waf = new Wafv2WebAcl(this, 'waf', {
      name: `${def.name}-edge`,
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      ruleJson: JSON.stringify(wafRules(def.edge.rateLimitPer5Min, def.name)),
      visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${def.name}-edge` },
    });
    const wafLogs = new CloudwatchLogGroup(this, 'waf-logs', { name: `aws-waf-logs-${def.name}`, retentionInDays: def.observability.logRetentionDays, kmsKeyId: key.arn });
    new Wafv2WebAclLoggingConfiguration(this, 'waf-logging', {
      resourceArn: waf.arn,
      logDestinationConfigs: [wafLogs.arn],
      redactedFields: [{ singleHeader: { name: 'authorization' } }],
    });

    const spa = new CloudfrontFunction(this, 'spa-fallback', { name: `${def.name}-spa-fallback`, runtime: 'cloudfront-js-2.0', publish: true, code: SPA_FALLBACK_JS, comment: 'client-side routes → /index.html' });
    const frontPolicy = new CloudfrontCachePolicy(this, 'front-cache', {
      name: `${def.name}-front`,
      comment: 'static front: the origin decides (hashed assets long, index.html short), capped at edge.assetMaxAgeSeconds',
      minTtl: 0, defaultTtl: 0, maxTtl: def.edge.assetMaxAgeSeconds,
      parametersInCacheKeyAndForwardedToOrigin: {
        enableAcceptEncodingGzip: true, enableAcceptEncodingBrotli: true,
        cookiesConfig: { cookieBehavior: 'none' }, headersConfig: { headerBehavior: 'none' }, queryStringsConfig: { queryStringBehavior: 'none' },
      },
    });
    // /api/* is never cached here: a write must never be followed by a stale read, and CloudFront cannot be
    // purged on every write (invalidations are asynchronous and billed per path). Hot API reads are served by
    // the API's cache-aside (ElastiCache); every viewer header but Host (Authorization, Origin, the CORS
    // preflight headers) reaches the API, which answers preflights itself.
    const apiPolicyId = MANAGED.cachingDisabled;

    // The load balancers forward only requests that carry this header (tier.ts): the WAF cannot be bypassed.
    const originSecret = new DataAwsSecretsmanagerSecretVersion(this, 'origin-verify', { secretId: originSecretNameFor(def.name) }).secretString;
    const origin = (originId: string, host: string): CloudfrontDistributionOrigin => ({
      originId,
      domainName: host,
      customHeader: [{ name: ORIGIN_HEADER, value: originSecret }],
      customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'], originReadTimeout: 30, originKeepaliveTimeout: 5 },
      connectionAttempts: 2,
      connectionTimeout: 5,
    });
    const [primary, secondary] = settings.regions;
    const origins = [origin('front-primary', regionalName('front', primary!.region, domain)), origin('api', failoverName('api', domain))];
    if (secondary) origins.push(origin('front-secondary', regionalName('front', secondary.region, domain)));
    const frontTarget = secondary ? 'front' : 'front-primary';

    this.distribution = new CloudfrontDistribution(this, 'cdn', {
      enabled: true,
      comment: `${def.name}: /api/* → API (DNS failover), the rest → front (origin failover)`,
      aliases: [domain],
      httpVersion: 'http2and3',
      isIpv6Enabled: true,
      priceClass: 'PriceClass_100',
      webAclId: waf.arn,
      defaultRootObject: 'index.html',
      viewerCertificate: { acmCertificateArn: certificate.arn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' },
      loggingConfig: { bucket: logs.bucket.bucketDomainName, prefix: 'cloudfront/', includeCookies: false },
      restrictions: { geoRestriction: { restrictionType: 'none' } },
      origin: origins,
      ...(secondary
        ? {
            originGroup: [
              {
                originId: 'front',
                failoverCriteria: { statusCodes: [500, 502, 503, 504] },
                member: [{ originId: 'front-primary' }, { originId: 'front-secondary' }],
              },
            ],
          }
        : {}),
      defaultCacheBehavior: {
        targetOriginId: frontTarget,
        viewerProtocolPolicy: 'redirect-to-https',
        allowedMethods: ['GET', 'HEAD', 'OPTIONS'],
        cachedMethods: ['GET', 'HEAD'],
        compress: true,
        cachePolicyId: frontPolicy.id,
        responseHeadersPolicyId: MANAGED.securityHeaders,
        functionAssociation: [{ eventType: 'viewer-request', functionArn: spa.arn }],
      },
      orderedCacheBehavior: [
        {
          pathPattern: '/api/*',
          targetOriginId: 'api',
          viewerProtocolPolicy: 'https-only',
          allowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE'],
          cachedMethods: ['GET', 'HEAD'],
          compress: true,
          cachePolicyId: apiPolicyId,
          originRequestPolicyId: MANAGED.allViewerExceptHostHeader,
          responseHeadersPolicyId: MANAGED.securityHeaders,
        },
      ],
    });
    for (const type of ['A', 'AAAA']) {
      new Route53Record(this, `alias-${type}`, {
        zoneId: zone.zoneId, name: domain, type,
        alias: { name: this.distribution.domainName, zoneId: this.distribution.hostedZoneId, evaluateTargetHealth: false },
      });
    }
    new TerraformOutput(this, 'url', { value: `https://${domain}` });
    new TerraformOutput(this, 'distribution_domain', { value: this.distribution.domainName });
  }
}
