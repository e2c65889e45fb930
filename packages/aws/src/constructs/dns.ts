// Names of one region under the public domain, and Route 53 failover between the regions:
//   <tier>.<region>.<domain>  alias → that region's ALB (what CloudFront's origin group and the health checks use)
//   <tier>.origin.<domain>    failover CNAME (TTL ≤ 60 s): PRIMARY in the primary region, SECONDARY in the other,
//                             each with a health check on the tier's health path over HTTPS.
// The regional certificate covers both names so TLS holds whichever name a client used.
import { Construct } from 'constructs';
import { TerraformIterator, Token } from 'cdktn';
import { AcmCertificate } from '@cdktn/provider-aws/lib/acm-certificate/index.js';
import { AcmCertificateValidation } from '@cdktn/provider-aws/lib/acm-certificate-validation/index.js';
import { DataAwsRoute53Zone } from '@cdktn/provider-aws/lib/data-aws-route53-zone/index.js';
import { Route53Record } from '@cdktn/provider-aws/lib/route53-record/index.js';
import { Route53HealthCheck } from '@cdktn/provider-aws/lib/route53-health-check/index.js';
import type { Lb } from '@cdktn/provider-aws/lib/lb/index.js';
import { DNS, regionHealthCheck } from '../settings.js';

/** A public ACM certificate validated through Route 53 DNS records. */
export class ValidatedCertificate extends Construct {
  readonly arn: string;
  constructor(scope: Construct, id: string, props: { domainName: string; alternativeNames: string[]; zoneId: string }) {
    super(scope, id);
    const cert = new AcmCertificate(this, 'cert', {
      domainName: props.domainName,
      subjectAlternativeNames: props.alternativeNames,
      validationMethod: 'DNS',
      keyAlgorithm: 'EC_prime256v1',
      lifecycle: { createBeforeDestroy: true },
    });
    const it = TerraformIterator.fromComplexList(cert.domainValidationOptions, 'domain_name');
    const records = new Route53Record(this, 'validation', {
      forEach: it,
      allowOverwrite: true,
      zoneId: props.zoneId,
      name: it.getString('resource_record_name'),
      type: it.getString('resource_record_type'),
      records: [it.getString('resource_record_value')],
      ttl: DNS.ttlSeconds,
    });
    const validation = new AcmCertificateValidation(this, 'validated', {
      certificateArn: cert.arn,
      validationRecordFqdns: Token.asList(`\${[for r in ${records.fqn} : r.fqdn]}`),
    });
    this.arn = validation.certificateArn;
  }
}

export const regionalName = (tier: string, region: string, domain: string) => `${tier}.${region}.${domain}`;
export const failoverName = (tier: string, domain: string) => `${tier}.origin.${domain}`;

export class RegionZone extends Construct {
  readonly zone: DataAwsRoute53Zone;
  constructor(scope: Construct, id: string, domain: string) {
    super(scope, id);
    this.zone = new DataAwsRoute53Zone(this, 'zone', { name: domain, privateZone: false });
  }
}

export interface FailoverProps {
  zoneId: string;
  domain: string;
  region: string;
  role: 'primary' | 'secondary';
  tiers: { tier: 'front' | 'api'; alb: Lb; healthPath: string }[];
  /** regions.failoverAfterSeconds */
  failoverAfterSeconds: number;
  /** regions.dns.ttlSeconds: TTL of the failover records. */
  ttlSeconds: number;
}

export class RegionalDns extends Construct {
  readonly healthChecks: Route53HealthCheck[] = [];
  constructor(scope: Construct, id: string, props: FailoverProps) {
    super(scope, id);
    for (const { tier, alb, healthPath } of props.tiers) {
      const regional = regionalName(tier, props.region, props.domain);
      new Route53Record(this, `${tier}-regional`, {
        zoneId: props.zoneId,
        name: regional,
        type: 'A',
        alias: { name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true },
      });
      const check = new Route53HealthCheck(this, `${tier}-health`, {
        type: 'HTTPS',
        fqdn: regional,
        port: 443,
        resourcePath: healthPath,
        enableSni: true,
        // Readiness with its own threshold: longer than a writer failover inside the region.
        ...regionHealthCheck(props.failoverAfterSeconds),
        measureLatency: true,
        tags: { Name: `${tier} ${props.region}` },
      });
      this.healthChecks.push(check);
      new Route53Record(this, `${tier}-failover`, {
        zoneId: props.zoneId,
        name: failoverName(tier, props.domain),
        type: 'CNAME',
        ttl: props.ttlSeconds,
        records: [regional],
        setIdentifier: `${tier}-${props.region}`,
        healthCheckId: check.id,
        failoverRoutingPolicy: { type: props.role === 'primary' ? 'PRIMARY' : 'SECONDARY' },
      });
    }
  }
}
