// Observability of one region: an OpenSearch domain (the seed's ELK) inside the VPC receiving the
// application logs, CloudWatch alarms on the thresholds of the definition, and a dashboard.
import { Construct } from 'constructs';
import { OpensearchDomain } from '@cdktn/provider-aws/lib/opensearch-domain/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { CloudwatchLogResourcePolicy } from '@cdktn/provider-aws/lib/cloudwatch-log-resource-policy/index.js';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktn/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { CloudwatchDashboard } from '@cdktn/provider-aws/lib/cloudwatch-dashboard/index.js';
import { SnsTopic } from '@cdktn/provider-aws/lib/sns-topic/index.js';
import { SnsTopicSubscription } from '@cdktn/provider-aws/lib/sns-topic-subscription/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { observabilityPanels, type AwsTarget } from '@conduit/definition';
import { LATENCY_STATISTIC, OPENSEARCH, alarmName } from '../settings.js';
import { policyJson, type RegionContext } from './common.js';
import type { Network } from './network.js';
import type { Tier } from './tier.js';
import type { Database } from './database.js';
import type { Cache } from './cache.js';

export class LogSearch extends Construct {
  readonly domain: OpensearchDomain;
  constructor(scope: Construct, id: string, ctx: RegionContext, network: Network) {
    super(scope, id);
    const { def, plan, key, accountId } = ctx;
    const zones = plan.zones.length;
    const domainName = `${def.name}-${plan.region}`.slice(0, 28).replace(/-+$/, '');
    const logs = (['INDEX_SLOW_LOGS', 'SEARCH_SLOW_LOGS', 'ES_APPLICATION_LOGS', 'AUDIT_LOGS'] as const).map(
      (type) => ({ type, group: new CloudwatchLogGroup(this, `log-${type.toLowerCase()}`, { name: `/${def.name}/opensearch/${plan.region}/${type.toLowerCase()}`, retentionInDays: def.observability.logRetentionDays, kmsKeyId: key.arn }) }),
    );
    new CloudwatchLogResourcePolicy(this, 'log-policy', {
      policyName: `${domainName}-opensearch-logs`,
      policyDocument: policyJson({
        Effect: 'Allow',
        Principal: { Service: 'es.amazonaws.com' },
        Action: ['logs:PutLogEvents', 'logs:CreateLogStream'],
        Resource: logs.map((l) => `${l.group.arn}:*`),
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      }),
    });
    // Operators reach the dashboards by assuming this role (fine-grained access control's master).
    const admin = new IamRole(this, 'admin-role', {
      name: `${domainName}-search-admin`,
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] }),
    });
    this.domain = new OpensearchDomain(this, 'domain', {
      domainName,
      engineVersion: OPENSEARCH.engineVersion,
      clusterConfig: {
        instanceType: OPENSEARCH.instanceType,
        instanceCount: zones,
        zoneAwarenessEnabled: zones > 1,
        ...(zones > 1 ? { zoneAwarenessConfig: { availabilityZoneCount: Math.min(zones, 3) } } : {}),
      },
      ebsOptions: { ebsEnabled: true, volumeSize: OPENSEARCH.volumeGb, volumeType: 'gp3' },
      encryptAtRest: { enabled: true, kmsKeyId: key.arn },
      nodeToNodeEncryption: { enabled: true },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: 'Policy-Min-TLS-1-2-2019-07' },
      vpcOptions: { subnetIds: network.isolatedSubnets.slice(0, Math.min(zones, 3)).map((s) => s.id), securityGroupIds: [network.groups.search.id] },
      advancedSecurityOptions: { enabled: true, anonymousAuthEnabled: false, internalUserDatabaseEnabled: false, masterUserOptions: { masterUserArn: admin.arn } },
      logPublishingOptions: logs.map((l) => ({ logType: l.type, cloudwatchLogGroupArn: l.group.arn, enabled: true })),
      accessPolicies: policyJson({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpHead'],
        Resource: `arn:aws:es:${plan.region}:${accountId}:domain/${domainName}/*`,
      }),
    });
  }
}

export interface MonitoringProps {
  tiers: Tier[];
  database: Database;
  cache: Cache;
  search: LogSearch;
}

export class Monitoring extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  constructor(scope: Construct, id: string, ctx: RegionContext, props: MonitoringProps) {
    super(scope, id);
    const { def, plan, key } = ctx;
    const a = def.observability.alarms;
    const prefix = `${def.name}-${plan.region}`;
    this.topic = new SnsTopic(this, 'alarms', { name: `${prefix}-alarms`, kmsMasterKeyId: key.arn });
    if (def.observability.alarmEmail) {
      new SnsTopicSubscription(this, 'alarm-email', { topicArn: this.topic.arn, protocol: 'email', endpoint: def.observability.alarmEmail });
    }
    const alarm = (id: string, config: Omit<CloudwatchMetricAlarmConfig, 'alarmName' | 'alarmActions' | 'okActions' | 'evaluationPeriods'> & { evaluationPeriods?: number }) =>
      this.alarms.push(
        new CloudwatchMetricAlarm(this, id, {
          alarmName: alarmName(def.name, plan.region, id),
          evaluationPeriods: 3,
          treatMissingData: 'notBreaching',
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
          ...config,
        }),
      );

    for (const t of props.tiers) {
      const tier = t.node.id;
      const lb = { LoadBalancer: t.alb.arnSuffix };
      alarm(`${tier}-5xx-percent`, {
        alarmDescription: `${tier}: more than ${a.http5xxPercent}% of requests answered 5xx (observability.alarms.http5xxPercent)`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: a.http5xxPercent,
        metricQuery: [
          { id: 'errors', metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensions: lb, period: 60, stat: 'Sum' } },
          { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: lb, period: 60, stat: 'Sum' } },
          { id: 'percent', expression: '100 * errors / MAX([requests, 1])', label: '5xx %', returnData: true },
        ],
      });
      alarm(`${tier}-latency`, {
        alarmDescription: `${tier}: ${LATENCY_STATISTIC} response time above ${a.p99LatencyMs} ms (observability.alarms.p99LatencyMs)`,
        namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimensions: lb, period: 60, extendedStatistic: LATENCY_STATISTIC,
        comparisonOperator: 'GreaterThanThreshold', threshold: a.p99LatencyMs / 1000,
      });
      alarm(`${tier}-unhealthy-hosts`, {
        alarmDescription: `${tier}: at least one instance fails its health check`,
        namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', dimensions: { ...lb, TargetGroup: t.targetGroup.arnSuffix }, period: 60, statistic: 'Maximum',
        comparisonOperator: 'GreaterThanThreshold', threshold: 0, evaluationPeriods: 2,
      });
      alarm(`${tier}-cpu`, {
        alarmDescription: `${tier}: instance CPU above ${a.cpuPercent}% (observability.alarms.cpuPercent)`,
        namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { AutoScalingGroupName: t.asg.name }, period: 60, statistic: 'Average',
        comparisonOperator: 'GreaterThanThreshold', threshold: a.cpuPercent,
      });
    }
    const db = { DBClusterIdentifier: props.database.cluster.clusterIdentifier };
    alarm('db-replica-lag', {
      alarmDescription: `database: replica lag above ${a.replicaLagSeconds} s (observability.alarms.replicaLagSeconds)`,
      namespace: 'AWS/RDS', metricName: plan.role === 'primary' ? 'AuroraReplicaLagMaximum' : 'AuroraGlobalDBReplicationLag', dimensions: db, period: 60, statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold', threshold: a.replicaLagSeconds * 1000,
    });
    alarm('db-cpu', {
      alarmDescription: `database: CPU above ${a.cpuPercent}%`,
      namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: db, period: 60, statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold', threshold: a.cpuPercent,
    });
    alarm('db-freeable-memory', {
      alarmDescription: `database: freeable memory below ${a.freeableMemoryMb} MB (observability.alarms.freeableMemoryMb)`,
      namespace: 'AWS/RDS', metricName: 'FreeableMemory', dimensions: db, period: 60, statistic: 'Minimum',
      comparisonOperator: 'LessThanThreshold', threshold: a.freeableMemoryMb * 1024 * 1024,
    });
    const cache = { ReplicationGroupId: props.cache.group.replicationGroupId };
    alarm('cache-cpu', {
      alarmDescription: `cache: engine CPU above ${a.cpuPercent}%`,
      namespace: 'AWS/ElastiCache', metricName: 'EngineCPUUtilization', dimensions: cache, period: 60, statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold', threshold: a.cpuPercent,
    });
    alarm('cache-freeable-memory', {
      alarmDescription: `cache: freeable memory below ${a.freeableMemoryMb} MB`,
      namespace: 'AWS/ElastiCache', metricName: 'FreeableMemory', dimensions: cache, period: 60, statistic: 'Minimum',
      comparisonOperator: 'LessThanThreshold', threshold: a.freeableMemoryMb * 1024 * 1024,
    });
    alarm('search-red', {
      alarmDescription: 'log search: cluster status red (some shards unassigned)',
      namespace: 'AWS/ES', metricName: 'ClusterStatus.red', dimensions: { DomainName: props.search.domain.domainName, ClientId: ctx.accountId }, period: 60, statistic: 'Maximum',
      comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: 1,
    });

    // The dashboard draws the panels the local console draws (observabilityPanels: one list, two renderers).
    const tierOf = (id: string) => props.tiers.find((t) => t.node.id === id)!;
    const dimensions: Record<AwsTarget, () => string[]> = {
      'front-alb': () => ['LoadBalancer', tierOf('front').alb.arnSuffix],
      'api-alb': () => ['LoadBalancer', tierOf('api').alb.arnSuffix],
      'front-asg': () => ['AutoScalingGroupName', tierOf('front').asg.name],
      'api-asg': () => ['AutoScalingGroupName', tierOf('api').asg.name],
      'db-cluster': () => ['DBClusterIdentifier', props.database.cluster.clusterIdentifier],
      'cache-group': () => ['ReplicationGroupId', props.cache.group.replicationGroupId],
    };
    const widgets = observabilityPanels(def).filter((p) => p.aws.length > 0).map((p, i) => ({
      type: 'metric', x: (i % 3) * 8, y: Math.floor(i / 3) * 6, width: 8, height: 6,
      properties: {
        title: p.title, region: plan.region, view: 'timeSeries', period: 60,
        metrics: p.aws.map((m) => [m.namespace, m.metric, ...dimensions[m.target](), { stat: m.stat }]),
      },
    }));
    new CloudwatchDashboard(this, 'dashboard', { dashboardName: prefix, dashboardBody: JSON.stringify({ widgets }) });
  }
}
