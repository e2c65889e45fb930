// On-demand list prices the monthly estimate (`tier cost aws`) multiplies, per region, in USD.
// AS OF: 2025-06 (list prices, Linux, on-demand, no free tier, no savings plan). SOURCE: the AWS pricing pages
// below, transcribed by hand — this repository has no network access to the Price List API, so check them with
// the AWS Pricing Calculator (https://calculator.aws) before relying on a figure. A region missing here makes
// `tier cost aws` stop with one line naming it: add its row rather than guessing.
//   EC2 / EBS / public IPv4 / NAT / transfer  https://aws.amazon.com/ec2/pricing/on-demand/ and /vpc/pricing/
//   Elastic Load Balancing                    https://aws.amazon.com/elasticloadbalancing/pricing/
//   Aurora MySQL (instances, storage, I/O, Global Database replicated writes)  https://aws.amazon.com/rds/aurora/pricing/
//   ElastiCache                               https://aws.amazon.com/elasticache/pricing/
//   OpenSearch Service                        https://aws.amazon.com/opensearch-service/pricing/
//   CloudWatch (logs, alarms, dashboards)     https://aws.amazon.com/cloudwatch/pricing/
//   Route 53 (hosted zone, health checks)     https://aws.amazon.com/route53/pricing/
//   KMS, Secrets Manager, WAF, AWS Backup, CloudFront: their /pricing/ pages.

export const PRICES_AS_OF = '2025-06';

export const HOURS_PER_MONTH = 730;

export interface RegionPrices {
  /** $/hour per instance type or class. */
  ec2: Record<string, number>;
  aurora: Record<string, number>;
  elasticache: Record<string, number>;
  opensearch: Record<string, number>;
  /** $/GB-month */
  ebsGp3: number;
  opensearchGp3: number;
  auroraStorage: number;
  /** $ per million requests */
  auroraIo: number;
  /** $ per million write I/Os replicated to a Global Database secondary */
  auroraReplicatedWriteIo: number;
  /** $/hour */
  natHour: number;
  /** $/GB processed */
  natGb: number;
  albHour: number;
  /** $ per LCU-hour */
  albLcu: number;
  /** $/hour per public IPv4 address (ALB nodes, NAT gateways) */
  publicIpv4Hour: number;
  /** CloudWatch Logs $/GB ingested, $/GB-month stored */
  logsIngestGb: number;
  logsStoreGb: number;
  /** $/GB sent to another region */
  crossRegionGb: number;
  /** AWS Backup warm storage $/GB-month (copies in the other region) */
  backupGb: number;
}

const t = (base: Record<string, number>, factor: number) => Object.fromEntries(Object.entries(base).map(([k, v]) => [k, Math.round(v * factor * 10_000) / 10_000]));

const US_EAST_1: RegionPrices = {
  ec2: { 't4g.micro': 0.0084, 't4g.small': 0.0168, 't4g.medium': 0.0336, 'c7g.large': 0.0725, 'm7g.large': 0.0816, 't3.small': 0.0208 },
  aurora: { 'db.t4g.medium': 0.073, 'db.r6g.large': 0.26, 'db.r6g.xlarge': 0.519, 'db.r7g.large': 0.276 },
  elasticache: { 'cache.t4g.small': 0.032, 'cache.t4g.medium': 0.065, 'cache.r7g.large': 0.219 },
  opensearch: { 't3.medium.search': 0.073 },
  ebsGp3: 0.08, opensearchGp3: 0.08, auroraStorage: 0.1, auroraIo: 0.2, auroraReplicatedWriteIo: 0.2,
  natHour: 0.045, natGb: 0.045, albHour: 0.0225, albLcu: 0.008, publicIpv4Hour: 0.005,
  logsIngestGb: 0.5, logsStoreGb: 0.03, crossRegionGb: 0.02, backupGb: 0.021,
};

export const PRICES: Record<string, RegionPrices> = {
  'us-east-1': US_EAST_1,
  'us-west-2': US_EAST_1,
  'eu-west-1': {
    ...US_EAST_1,
    ec2: t(US_EAST_1.ec2, 1.095), aurora: t(US_EAST_1.aurora, 1.11), elasticache: t(US_EAST_1.elasticache, 1.11), opensearch: { 't3.medium.search': 0.08 },
    ebsGp3: 0.088, opensearchGp3: 0.088, auroraStorage: 0.11, auroraIo: 0.22, auroraReplicatedWriteIo: 0.22,
    natHour: 0.048, natGb: 0.048, albHour: 0.0252, logsIngestGb: 0.57, crossRegionGb: 0.02, backupGb: 0.0231,
  },
  'eu-central-1': {
    ...US_EAST_1,
    ec2: t(US_EAST_1.ec2, 1.145), aurora: t(US_EAST_1.aurora, 1.19), elasticache: t(US_EAST_1.elasticache, 1.16), opensearch: { 't3.medium.search': 0.088 },
    ebsGp3: 0.0952, opensearchGp3: 0.0952, auroraStorage: 0.11, auroraIo: 0.22, auroraReplicatedWriteIo: 0.22,
    natHour: 0.052, natGb: 0.052, albHour: 0.027, albLcu: 0.0088, logsIngestGb: 0.63, logsStoreGb: 0.0324, crossRegionGb: 0.02, backupGb: 0.0245,
  },
};

/** Global (not per region) prices, $/month unless noted. */
export const GLOBAL_PRICES = {
  hostedZone: 0.5,
  /** Route 53 health check of an AWS endpoint, $0.50 + $1 per optional feature (HTTPS, 10 s interval, latency). */
  healthCheckBase: 0.5,
  healthCheckOption: 1,
  kmsKey: 1,
  secret: 0.4,
  alarm: 0.1,
  dashboard: 3,
  wafAcl: 5,
  wafRule: 1,
  /** $ per million requests inspected */
  wafRequests: 0.6,
  /** CloudFront $/GB to the internet (first 10 TB, North America/Europe) and $ per 10k HTTPS requests */
  cloudfrontGb: 0.085,
  cloudfrontHttps10k: 0.01,
};
