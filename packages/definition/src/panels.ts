// The operations panels, defined once: the local console draws each from Prometheus (or from the region's
// status), the AWS target draws the same titles as the CloudWatch dashboard's widgets. Thresholds come from
// observability.alarms, so a chart's red line and its alarm are the same number. Pure.
import type { ResolvedDefinition } from './resolve.js';

/** Which AWS resource's dimensions a CloudWatch metric needs; the AWS constructs fill in the values. */
export type AwsTarget = 'front-alb' | 'api-alb' | 'front-asg' | 'api-asg' | 'db-cluster' | 'cache-group';

export interface AwsPanelMetric {
  namespace: string;
  metric: string;
  /** CloudWatch statistic: Sum, Average, Maximum, p50, p99… */
  stat: string;
  target: AwsTarget;
}

export type LocalSource =
  /** One series per query; `{{label}}` in a label is replaced by that label's value (one series per value). */
  | { kind: 'prometheus'; series: Array<{ label: string; promql: string }> }
  /** An AWS-only panel; `why` says so on the local chart. */
  | { kind: 'none'; why: string };

export interface Panel {
  id: string;
  title: string;
  unit: string;
  /** The alarm's threshold drawn on the chart, with the definition field that sets it. */
  threshold: { value: number; field: string } | null;
  local: LocalSource;
  /** [] when the panel has no CloudWatch counterpart. */
  aws: AwsPanelMetric[];
}

const prom = (...series: Array<[label: string, promql: string]>): LocalSource => ({ kind: 'prometheus', series: series.map(([label, promql]) => ({ label, promql })) });

export function observabilityPanels(d: ResolvedDefinition): Panel[] {
  const a = d.observability.alarms;
  const tierPanels = (['front', 'api'] as const).flatMap((tier): Panel[] => {
    const be = `proxy="be_${tier}"`;
    return [
      {
        id: `${tier}-requests`, title: `${tier}: requests per second`, unit: 'req/s', threshold: null,
        local: prom(['{{server}}', `sum by (server) (rate(haproxy_server_http_responses_total{${be}}[1m]))`]),
        aws: [{ namespace: 'AWS/ApplicationELB', metric: 'RequestCount', stat: 'Sum', target: `${tier}-alb` }],
      },
      {
        id: `${tier}-errors`, title: `${tier}: 5xx responses`, unit: '%', threshold: { value: a.http5xxPercent, field: 'observability.alarms.http5xxPercent' },
        local: prom(['5xx %', `100 * sum(rate(haproxy_backend_http_responses_total{${be},code="5xx"}[1m])) / clamp_min(sum(rate(haproxy_backend_http_responses_total{${be}}[1m])), 1e-9)`]),
        aws: [{ namespace: 'AWS/ApplicationELB', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum', target: `${tier}-alb` }],
      },
      {
        id: `${tier}-instances`, title: `${tier}: instances in service (min ${d[tier].instances.min}, max ${d[tier].instances.max})`, unit: 'instances', threshold: null,
        local: prom(['in service', `count(haproxy_server_status{${be},state="UP"} == 1)`]),
        aws: [{ namespace: 'AWS/AutoScaling', metric: 'GroupInServiceInstances', stat: 'Maximum', target: `${tier}-asg` }],
      },
    ];
  });
  const quantile = (q: number) => `1000 * histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[1m])))`;
  return [
    ...tierPanels,
    {
      id: 'api-latency', title: 'api: latency p50 / p99', unit: 'ms', threshold: { value: a.p99LatencyMs, field: 'observability.alarms.p99LatencyMs' },
      local: prom(['p50', quantile(0.5)], ['p99', quantile(0.99)]),
      aws: [
        { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', stat: 'p50', target: 'api-alb' },
        { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', stat: 'p99', target: 'api-alb' },
      ],
    },
    {
      id: 'api-cpu', title: 'api: CPU per instance', unit: '%', threshold: { value: a.cpuPercent, field: 'observability.alarms.cpuPercent' },
      local: prom(['{{instance_name}}', '100 * rate(process_cpu_seconds_total{job="api"}[1m])']),
      aws: [{ namespace: 'AWS/EC2', metric: 'CPUUtilization', stat: 'Average', target: 'api-asg' }],
    },
    {
      id: 'api-rss', title: 'api: resident memory per instance', unit: 'MB', threshold: null,
      local: prom(['{{instance_name}}', 'process_resident_memory_bytes{job="api"} / 1e6']),
      aws: [],
    },
    {
      id: 'api-db-pool', title: 'api: database pool connections in use', unit: 'connections', threshold: null,
      local: prom(['{{pool}}', 'sum by (pool) (db_pool_connections{state="total"}) - sum by (pool) (db_pool_connections{state="free"})']),
      aws: [],
    },
    {
      id: 'db-replica-lag', title: 'database: replica lag', unit: 's', threshold: { value: a.replicaLagSeconds, field: 'observability.alarms.replicaLagSeconds' },
      // The Debian MariaDB exporter scrapes the primary only: the console exports each replica's lag from `tier status`.
      local: prom(['{{node}}', 'conduit_db_replica_lag_seconds']),
      aws: [{ namespace: 'AWS/RDS', metric: 'AuroraReplicaLagMaximum', stat: 'Maximum', target: 'db-cluster' }],
    },
    {
      id: 'db-semi-sync', title: 'database: semi-sync replicas acknowledging (0 = async)', unit: 'replicas', threshold: null,
      local: prom(['semi-sync replicas', 'mysql_global_status_rpl_semi_sync_master_clients * on () mysql_global_status_rpl_semi_sync_master_status']),
      aws: [],
    },
    {
      id: 'db-cpu', title: 'database: CPU', unit: '%', threshold: { value: a.cpuPercent, field: 'observability.alarms.cpuPercent' },
      // The console reads every process's CPU from /proc (the mysqld exporter reports none).
      local: prom(['{{process}}', 'conduit_process_cpu_percent{tier="db"}']),
      aws: [{ namespace: 'AWS/RDS', metric: 'CPUUtilization', stat: 'Maximum', target: 'db-cluster' }],
    },
    {
      id: 'process-cpu', title: 'every process: CPU (with its children)', unit: '% of a core', threshold: null,
      local: prom(['{{process}}', 'conduit_process_cpu_percent']),
      aws: [],
    },
    {
      id: 'process-rss', title: 'every process: resident memory (with its children)', unit: 'MB', threshold: null,
      local: prom(['{{process}}', 'conduit_process_resident_memory_bytes / 1e6']),
      aws: [],
    },
    {
      id: 'cache-cpu', title: 'cache: CPU per node', unit: '%', threshold: { value: a.cpuPercent, field: 'observability.alarms.cpuPercent' },
      local: prom(['{{node}}', '100 * (rate(redis_cpu_sys_seconds_total[1m]) + rate(redis_cpu_user_seconds_total[1m]))']),
      aws: [{ namespace: 'AWS/ElastiCache', metric: 'EngineCPUUtilization', stat: 'Maximum', target: 'cache-group' }],
    },
    {
      id: 'cache-memory', title: 'cache: memory used per node', unit: 'MB', threshold: null,
      local: prom(['{{node}}', 'redis_memory_used_bytes / 1e6']),
      aws: [{ namespace: 'AWS/ElastiCache', metric: 'BytesUsedForCache', stat: 'Maximum', target: 'cache-group' }],
    },
    {
      id: 'cache-hit-ratio', title: 'cache: hit ratio of API lookups', unit: '%', threshold: null,
      local: prom(['hits %', '100 * sum(rate(cache_operations_total{result="hit"}[1m])) / clamp_min(sum(rate(cache_operations_total{result=~"hit|miss"}[1m])), 1e-9)']),
      aws: [{ namespace: 'AWS/ElastiCache', metric: 'CacheHitRate', stat: 'Average', target: 'cache-group' }],
    },
  ];
}
