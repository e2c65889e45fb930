// `tier cost aws`: the monthly estimate of a definition, per region and in total, from the price table
// (prices.ts, dated) and the usage assumptions below. Counts come from the resolved definition (desired
// instances, database and cache nodes, zones, regions), the same numbers the stacks are synthesized from.
// Pure: a definition in, lines out.
import type { ResolvedDefinition } from '@conduit/definition';
import { OPENSEARCH, ROOT_VOLUME_GB, awsSettings, definitionFor } from '../settings.js';
import { GLOBAL_PRICES, HOURS_PER_MONTH, PRICES, PRICES_AS_OF, type RegionPrices } from './prices.js';

/** What the estimate assumes about traffic and data (no definition field says these); each is per month. */
export const USAGE = {
  /** Average load balancer capacity units per ALB (a small production site). */
  albLcus: 1,
  /** GB through the NAT gateways per region (package installs at boot, AWS APIs without a VPC endpoint). */
  natGb: 50,
  /** Aurora storage, GB, and I/O requests (millions) in the writer's region. */
  dbStorageGb: 50,
  dbIoMillions: 100,
  /** Of which writes (millions), replicated to the Global Database secondary and billed there. */
  dbWriteIoMillions: 20,
  /** CloudWatch Logs ingested per region, GB (VPC flow logs, Aurora audit/slow/error, OpenSearch, cache slow log). */
  logsGb: 30,
  /** GB sent to the other region besides the database (backup copies, state and secret replication). */
  crossRegionGb: 60,
  /** Edge traffic: GB to viewers, millions of HTTPS requests. */
  edgeGb: 100,
  edgeRequestsMillions: 10,
} as const;

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

export interface CostReport {
  name: string;
  pricesAsOf: string;
  regions: { region: string; role: 'primary' | 'secondary'; lines: CostLine[]; total: number }[];
  global: { lines: CostLine[]; total: number };
  total: number;
  notes: string[];
}

export class CostError extends Error {}

const H = HOURS_PER_MONTH;
const round = (n: number) => Math.round(n * 100) / 100;

function price(table: Record<string, number>, key: string, what: string, region: string): number {
  const p = table[key];
  if (p === undefined) throw new CostError(`no ${what} price for ${key} in ${region} in packages/aws/src/cost/prices.ts: add it (with its source) or pick a listed type`);
  return p;
}

function regionLines(def: ResolvedDefinition, region: string, role: 'primary' | 'secondary', p: RegionPrices): CostLine[] {
  const zones = def.zones;
  const api = def.api.instances.desired;
  const front = def.front.instances.desired;
  const db = def.dbNodes.length;
  const cache = def.cacheNodes.length;
  const multi = def.regions.secondary !== null;
  const logsStoredGb = (USAGE.logsGb * def.observability.logRetentionDays) / 30;
  const alarms = 2 * 4 + 3 + 2 + 1;
  const secrets = role === 'primary' ? (multi ? 5 : 4) : 4; // app user, JWT, the cache's API and disabled default users (+ our master secret with a Global Database); replicas count
  const lines: CostLine[] = [
    { item: `EC2 API ${def.api.instanceType}`, quantity: `${api} × ${H} h`, usd: api * H * price(p.ec2, def.api.instanceType, 'EC2', region) },
    { item: `EC2 front ${def.front.instanceType}`, quantity: `${front} × ${H} h`, usd: front * H * price(p.ec2, def.front.instanceType, 'EC2', region) },
    { item: 'EBS gp3 root volumes', quantity: `${(api + front) * ROOT_VOLUME_GB} GB`, usd: (api + front) * ROOT_VOLUME_GB * p.ebsGp3 },
    { item: `Aurora MySQL ${def.database.instanceClass}`, quantity: `${db} × ${H} h`, usd: db * H * price(p.aurora, def.database.instanceClass, 'Aurora', region) },
    { item: 'Aurora storage', quantity: `${USAGE.dbStorageGb} GB`, usd: USAGE.dbStorageGb * p.auroraStorage },
    role === 'primary'
      ? { item: 'Aurora I/O', quantity: `${USAGE.dbIoMillions} M requests`, usd: USAGE.dbIoMillions * p.auroraIo }
      : { item: 'Aurora Global Database replicated write I/O', quantity: `${USAGE.dbWriteIoMillions} M writes`, usd: USAGE.dbWriteIoMillions * p.auroraReplicatedWriteIo },
    { item: `ElastiCache ${def.cache.nodeType}`, quantity: `${cache} × ${H} h`, usd: cache * H * price(p.elasticache, def.cache.nodeType, 'ElastiCache', region) },
    { item: `OpenSearch ${OPENSEARCH.instanceType} + gp3`, quantity: `${zones} × ${H} h, ${zones * OPENSEARCH.volumeGb} GB`, usd: zones * (H * price(p.opensearch, OPENSEARCH.instanceType, 'OpenSearch', region) + OPENSEARCH.volumeGb * p.opensearchGp3) },
    { item: 'NAT gateways', quantity: `${zones} × ${H} h + ${USAGE.natGb} GB`, usd: zones * H * p.natHour + USAGE.natGb * p.natGb },
    { item: 'Application load balancers (front, API)', quantity: `2 × ${H} h, ${USAGE.albLcus} LCU each`, usd: 2 * H * (p.albHour + USAGE.albLcus * p.albLcu) },
    { item: 'Public IPv4 (ALB nodes, NAT gateways)', quantity: `${3 * zones} addresses`, usd: 3 * zones * H * p.publicIpv4Hour },
    { item: 'CloudWatch Logs ingestion + storage', quantity: `${USAGE.logsGb} GB in, ${Math.round(logsStoredGb)} GB kept`, usd: USAGE.logsGb * p.logsIngestGb + logsStoredGb * p.logsStoreGb },
    { item: 'CloudWatch alarms + dashboard', quantity: `${alarms} alarms, 1 dashboard`, usd: alarms * GLOBAL_PRICES.alarm + GLOBAL_PRICES.dashboard },
    { item: 'Route 53 health checks (HTTPS, 10 s, latency)', quantity: '2 checks', usd: 2 * (GLOBAL_PRICES.healthCheckBase + 3 * GLOBAL_PRICES.healthCheckOption) },
    { item: 'KMS key + Secrets Manager', quantity: `1 key, ${secrets} secrets`, usd: GLOBAL_PRICES.kmsKey + secrets * GLOBAL_PRICES.secret },
  ];
  if (multi && role === 'primary') {
    lines.push({ item: 'Cross-region transfer (backup copies, replication)', quantity: `${USAGE.crossRegionGb} GB`, usd: USAGE.crossRegionGb * p.crossRegionGb });
  }
  if (def.backup.copyToSecondary && multi && role === 'secondary') {
    lines.push({ item: 'AWS Backup copies kept here', quantity: `${USAGE.dbStorageGb} GB`, usd: USAGE.dbStorageGb * p.backupGb });
  }
  return lines.map((l) => ({ ...l, usd: round(l.usd) }));
}

export function estimateCost(def: ResolvedDefinition): CostReport {
  const settings = awsSettings(def);
  const notes: string[] = [];
  const regions = settings.regions.map((plan) => {
    const p = PRICES[plan.region];
    if (!p) throw new CostError(`no prices for region ${plan.region} in packages/aws/src/cost/prices.ts: add its row (with its source) to estimate it`);
    const lines = regionLines(definitionFor(def, plan), plan.region, plan.role, p);
    return { region: plan.region, role: plan.role, lines, total: round(lines.reduce((a, l) => a + l.usd, 0)) };
  });
  const rules = 4;
  const globalLines: CostLine[] = [
    { item: 'Route 53 hosted zone', quantity: '1', usd: GLOBAL_PRICES.hostedZone },
    { item: 'WAF web ACL + rules', quantity: `1 ACL, ${rules} rules`, usd: GLOBAL_PRICES.wafAcl + rules * GLOBAL_PRICES.wafRule },
    { item: 'WAF requests', quantity: `${USAGE.edgeRequestsMillions} M`, usd: USAGE.edgeRequestsMillions * GLOBAL_PRICES.wafRequests },
    { item: 'CloudFront transfer + HTTPS requests', quantity: `${USAGE.edgeGb} GB, ${USAGE.edgeRequestsMillions} M`, usd: USAGE.edgeGb * GLOBAL_PRICES.cloudfrontGb + USAGE.edgeRequestsMillions * 100 * GLOBAL_PRICES.cloudfrontHttps10k },
    { item: 'KMS keys (edge, state, state replica)', quantity: `${def.regions.secondary ? 3 : 2} keys`, usd: (def.regions.secondary ? 3 : 2) * GLOBAL_PRICES.kmsKey },
  ].map((l) => ({ ...l, usd: round(l.usd) }));
  const globalTotal = round(globalLines.reduce((a, l) => a + l.usd, 0));
  notes.push(`on-demand list prices as of ${PRICES_AS_OF} (packages/aws/src/cost/prices.ts, with sources), ${H} h a month; usage assumptions in packages/aws/src/cost/estimate.ts (USAGE)`);
  notes.push('not included: data transfer out of the ALBs to CloudFront beyond the edge figure, Aurora backup storage beyond the retention that is free, support plans, taxes');
  return { name: def.name, pricesAsOf: PRICES_AS_OF, regions, global: { lines: globalLines, total: globalTotal }, total: round(regions.reduce((a, r) => a + r.total, 0) + globalTotal), notes };
}

const usd = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCost(r: CostReport): string {
  const width = Math.max(...[...r.regions.flatMap((x) => x.lines), ...r.global.lines].map((l) => l.item.length + l.quantity.length + 3));
  const line = (l: CostLine) => `  ${`${l.item} (${l.quantity})`.padEnd(width)}  ${usd(l.usd).padStart(10)}`;
  const out = [`AWS monthly estimate of "${r.name}" in USD`];
  for (const region of r.regions) {
    out.push('', `${region.region} (${region.role})`, ...region.lines.map(line), `  ${'region total'.padEnd(width)}  ${usd(region.total).padStart(10)}`);
  }
  out.push('', 'global (edge, DNS, state)', ...r.global.lines.map(line), `  ${'global total'.padEnd(width)}  ${usd(r.global.total).padStart(10)}`);
  out.push('', `${'total per month'.padEnd(width + 2)}  ${usd(r.total).padStart(10)}`, '', ...r.notes.map((n) => `note: ${n}`));
  return out.join('\n') + '\n';
}
