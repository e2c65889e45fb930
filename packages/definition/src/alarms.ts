// The alert rules, defined once: the local region renders each as a Prometheus alerting rule
// (@conduit/local, prometheus-rules.yml → Alertmanager → the console), `tier synth aws` as a CloudWatch
// alarm (packages/aws, Monitoring). Thresholds come from observability.alarms, so the panels' red lines,
// the local rules and the AWS alarms are the same numbers. Where one target has no counterpart, `why`
// says so (both targets render the same list; a test compares them). Pure.
import type { ResolvedDefinition } from './resolve.js';
import type { AwsTarget } from './panels.js';

/** AWS resources an alarm's metric needs dimensions of (the panels' targets, plus target groups and the log search domain). */
export type AwsAlarmTarget = AwsTarget | 'front-tg' | 'api-tg' | 'search-domain';

export interface AwsAlarmMetric {
  namespace: string;
  metric: string;
  /** The metric in a secondary region when it differs (Aurora Global Database lag). */
  secondaryMetric?: string;
  /** CloudWatch statistic: Sum, Average, Maximum, Minimum, p99… */
  stat: string;
  target: AwsAlarmTarget;
}

export type AwsComparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';

export type AwsAlarm =
  /** One metric against the threshold (in the metric's own unit: seconds, bytes, milliseconds…). */
  | { kind: 'metric'; metric: AwsAlarmMetric; comparison: AwsComparison; threshold: number; evaluationPeriods?: number }
  /** 100 * part / total (metric math), against a threshold in %. */
  | { kind: 'percent'; part: AwsAlarmMetric; total: AwsAlarmMetric; comparison: AwsComparison; threshold: number }
  | { kind: 'none'; why: string };

export type LocalAlarm =
  /** A Prometheus rule: `expr` fires once true for `for`; `detail` (may use {{ $labels.x }}) follows the summary. */
  | { kind: 'prometheus'; expr: string; for: string; detail?: string }
  | { kind: 'none'; why: string };

export interface Alarm {
  /** kebab-case; the CloudWatch alarm is `<stack>-<region>-<id>`. */
  id: string;
  /** PascalCase of the id: the Prometheus alert's name. */
  name: string;
  /** What it means, with the definition field that sets its threshold. */
  summary: string;
  /** page: someone acts now; warn: look today. */
  severity: 'page' | 'warn';
  local: LocalAlarm;
  aws: AwsAlarm;
}

const pascal = (id: string) => id.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
const MB = 1024 * 1024;

/** How old the last backup verify may get before the backup-verify alarm fires: backup.verifyEveryHours plus half of it, at most one hour more. */
export function backupVerifyMaxAgeSeconds(d: ResolvedDefinition): number {
  const period = d.backup.verifyEveryHours * 3600;
  return Math.round(period + Math.min(period / 2, 3600));
}

export function observabilityAlarms(d: ResolvedDefinition): Alarm[] {
  const a = d.observability.alarms;
  const alarm = (id: string, severity: Alarm['severity'], summary: string, local: LocalAlarm, aws: AwsAlarm): Alarm => ({ id, name: pascal(id), summary, severity, local, aws });
  const gt = (metric: AwsAlarmMetric, threshold: number, evaluationPeriods?: number): AwsAlarm =>
    ({ kind: 'metric', metric, comparison: 'GreaterThanThreshold', threshold, ...(evaluationPeriods ? { evaluationPeriods } : {}) });
  const elb = (metric: string, stat: string, target: AwsAlarmTarget): AwsAlarmMetric => ({ namespace: 'AWS/ApplicationELB', metric, stat, target });

  const tiers = (['front', 'api'] as const).flatMap((tier): Alarm[] => {
    const be = `proxy="be_${tier}"`;
    return [
      alarm(`${tier}-5xx-percent`, 'page', `${tier}: more than ${a.http5xxPercent} % of requests answered 5xx (observability.alarms.http5xxPercent)`,
        { kind: 'prometheus', for: '1m', expr: `100 * sum(rate(haproxy_backend_http_responses_total{${be},code="5xx"}[1m])) / clamp_min(sum(rate(haproxy_backend_http_responses_total{${be}}[1m])), 1e-9) > ${a.http5xxPercent}` },
        { kind: 'percent', part: elb('HTTPCode_Target_5XX_Count', 'Sum', `${tier}-alb`), total: elb('RequestCount', 'Sum', `${tier}-alb`), comparison: 'GreaterThanThreshold', threshold: a.http5xxPercent }),
      alarm(`${tier}-latency`, 'page', `${tier}: p99 response time above ${a.p99LatencyMs} ms (observability.alarms.p99LatencyMs)`,
        tier === 'api'
          ? { kind: 'prometheus', for: '2m', expr: `1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[1m]))) > ${a.p99LatencyMs}` }
          : { kind: 'none', why: 'the front instances (nginx) export no latency histogram and HAProxy no percentiles; the front serves static files' },
        gt(elb('TargetResponseTime', 'p99', `${tier}-alb`), a.p99LatencyMs / 1000)),
      alarm(`${tier}-unhealthy-hosts`, 'warn', `${tier}: at least one instance fails its health check (out of the pool)`,
        { kind: 'prometheus', for: '30s', expr: `haproxy_server_status{state="DOWN",${be}} == 1`, detail: 'HAProxy took {{ $labels.proxy }}/{{ $labels.server }} out of the pool' },
        gt(elb('UnHealthyHostCount', 'Maximum', `${tier}-tg`), 0, 2)),
      alarm(`${tier}-cpu`, 'warn', `${tier}: instance CPU above ${a.cpuPercent} % (observability.alarms.cpuPercent)`,
        // Locally an instance is a process: the console's /proc figures (the API's own process metric for the API).
        { kind: 'prometheus', for: '2m', expr: tier === 'api' ? `100 * rate(process_cpu_seconds_total{job="api"}[1m]) > ${a.cpuPercent}` : `conduit_process_cpu_percent{tier="front"} > ${a.cpuPercent}`, detail: '{{ $labels.instance_name }}{{ $labels.process }}' },
        gt({ namespace: 'AWS/EC2', metric: 'CPUUtilization', stat: 'Average', target: `${tier}-asg` }, a.cpuPercent)),
    ];
  });

  const rds = (metric: string, stat: string): AwsAlarmMetric => ({ namespace: 'AWS/RDS', metric, stat, target: 'db-cluster' });
  const cache = (metric: string, stat: string): AwsAlarmMetric => ({ namespace: 'AWS/ElastiCache', metric, stat, target: 'cache-group' });
  return [
    ...tiers,
    alarm('db-replica-lag', 'page', `database: replica lag above ${a.replicaLagSeconds} s (observability.alarms.replicaLagSeconds)`,
      // The Debian mysqld exporter scrapes the primary only: the console exports each replica's lag.
      { kind: 'prometheus', for: '30s', expr: `conduit_db_replica_lag_seconds > ${a.replicaLagSeconds}`, detail: 'replica {{ $labels.node }}' },
      gt({ ...rds('AuroraReplicaLagMaximum', 'Maximum'), secondaryMetric: 'AuroraGlobalDBReplicationLag' }, a.replicaLagSeconds * 1000)),
    alarm('db-cpu', 'warn', `database: CPU above ${a.cpuPercent} % (observability.alarms.cpuPercent)`,
      { kind: 'prometheus', for: '2m', expr: `conduit_process_cpu_percent{tier="db"} > ${a.cpuPercent}`, detail: '{{ $labels.process }}' },
      gt(rds('CPUUtilization', 'Maximum'), a.cpuPercent)),
    alarm('db-freeable-memory', 'warn', `database: freeable memory below ${a.freeableMemoryMb} MB (observability.alarms.freeableMemoryMb)`,
      { kind: 'none', why: 'the local database nodes share the machine\'s memory: see the process memory panel' },
      { kind: 'metric', metric: rds('FreeableMemory', 'Minimum'), comparison: 'LessThanThreshold', threshold: a.freeableMemoryMb * MB }),
    alarm('db-writer-not-writable', 'page', 'database: the writer endpoint reaches no writable primary',
      { kind: 'prometheus', for: '15s', expr: 'mysql_global_variables_read_only == 1 or mysql_up == 0' },
      { kind: 'none', why: 'Aurora\'s cluster endpoint always points at its writer; a failover is Aurora\'s own' }),
    alarm('db-semi-sync-degraded', 'page', 'database: the primary fell back to asynchronous replication (acknowledged writes may exist on it alone)',
      { kind: 'prometheus', for: '30s', expr: 'mysql_global_status_rpl_semi_sync_master_status == 0' },
      { kind: 'none', why: 'Aurora commits to a storage quorum across three zones: there is no semi-sync to lose' }),
    alarm('db-redundancy-below-definition', 'page', `database: the primary has fewer than ${d.dbNodes.length - 1} replica(s) acknowledging its commits (database.replicas); \`tier status\` says what is missing and since when`,
      { kind: 'prometheus', for: '15s', expr: `mysql_global_status_rpl_semi_sync_master_clients < ${d.dbNodes.length - 1}` },
      { kind: 'none', why: 'Aurora replaces a failed instance itself; its replica count is the cluster\'s' }),
    alarm('cache-cpu', 'warn', `cache: engine CPU above ${a.cpuPercent} % (observability.alarms.cpuPercent)`,
      { kind: 'prometheus', for: '2m', expr: `100 * (rate(redis_cpu_sys_seconds_total[1m]) + rate(redis_cpu_user_seconds_total[1m])) > ${a.cpuPercent}`, detail: '{{ $labels.node }}' },
      gt(cache('EngineCPUUtilization', 'Maximum'), a.cpuPercent)),
    alarm('cache-freeable-memory', 'warn', `cache: freeable memory below ${a.freeableMemoryMb} MB (observability.alarms.freeableMemoryMb)`,
      { kind: 'none', why: 'the local Redis nodes share the machine\'s memory: see the process memory panel' },
      { kind: 'metric', metric: cache('FreeableMemory', 'Minimum'), comparison: 'LessThanThreshold', threshold: a.freeableMemoryMb * MB }),
    alarm('cache-primary-without-replica', 'warn', `cache: the Redis primary has fewer than ${d.cache.replicas} replica(s) connected (cache.replicas)`,
      { kind: 'prometheus', for: '1m', expr: `redis_connected_slaves{} < ${d.cache.replicas} and on (instance) redis_instance_info{role="master"} == 1` },
      { kind: 'none', why: 'ElastiCache (Multi-AZ, automatic failover) replaces a lost replica itself' }),
    alarm('backup-verify', 'page', `backups: the last verify failed, or none ran for ${backupVerifyMaxAgeSeconds(d)} s (backup.verifyEveryHours ${d.backup.verifyEveryHours} h and a margin); \`tier status\` says when, which backup and why`,
      // The console exports the backup agent's last verify (ok 1/0, age since it, or since the oldest full backup before any).
      { kind: 'prometheus', for: '1m', expr: `conduit_backup_verify_ok == 0 or conduit_backup_verify_age_seconds > ${backupVerifyMaxAgeSeconds(d)}`, detail: 'backup {{ $labels.backup }}' },
      { kind: 'none', why: 'Aurora backups and AWS Backup recovery points are taken and checked by AWS; no restore test is synthesized' }),
    alarm('instance-down', 'page', 'a scrape target is down',
      { kind: 'prometheus', for: '30s', expr: 'up == 0', detail: '{{ $labels.job }} {{ $labels.instance }}, tier {{ $labels.tier }}, zone {{ $labels.zone }}' },
      { kind: 'none', why: 'every AWS instance sits in a target group: the unhealthy-hosts alarms cover it' }),
    alarm('synthetic-check-failed', 'page', 'a synthetic check of the site or the API through the edge fails',
      { kind: 'prometheus', for: '15s', expr: 'probe_success{job=~"probe-.*"} == 0', detail: 'probe {{ $labels.probe }} (blackbox exporter)' },
      { kind: 'none', why: 'on AWS the Route 53 health checks of the failover records probe the site' }),
    alarm('search-red', 'page', 'log search: cluster status red (some shards unassigned)',
      { kind: 'none', why: 'the local log index is DuckDB inside the console: no cluster, no shards' },
      { kind: 'metric', metric: { namespace: 'AWS/ES', metric: 'ClusterStatus.red', stat: 'Maximum', target: 'search-domain' }, comparison: 'GreaterThanOrEqualToThreshold', threshold: 1 }),
  ];
}
