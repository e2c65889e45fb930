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
import { observabilityAlarms, observabilityPanels, type AwsAlarmMetric, type AwsAlarmTarget, type AwsTarget } from '@conduit/definition';
import { OPENSEARCH, alarmName } from '../settings.js';
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
    const prefix = `${def.name}-${plan.region}`;
    this.topic = new SnsTopic(this, 'alarms', { name: `${prefix}-alarms`, kmsMasterKeyId: key.arn });
    if (def.observability.alarmEmail) {
      new SnsTopicSubscription(this, 'alarm-email', { topicArn: this.topic.arn, protocol: 'email', endpoint: def.observability.alarmEmail });
    }
    // The alarms of the definition (observabilityAlarms: one list, which the local region renders as
    // Prometheus rules); an alarm with no AWS counterpart says why there and is skipped here.
    const tierOf = (id: string) => props.tiers.find((t) => t.node.id === id)!;
    const dims: Record<AwsAlarmTarget, () => Record<string, string>> = {
      'front-alb': () => ({ LoadBalancer: tierOf('front').alb.arnSuffix }),
      'api-alb': () => ({ LoadBalancer: tierOf('api').alb.arnSuffix }),
      'front-tg': () => ({ LoadBalancer: tierOf('front').alb.arnSuffix, TargetGroup: tierOf('front').targetGroup.arnSuffix }),
      'api-tg': () => ({ LoadBalancer: tierOf('api').alb.arnSuffix, TargetGroup: tierOf('api').targetGroup.arnSuffix }),
      'front-asg': () => ({ AutoScalingGroupName: tierOf('front').asg.name }),
      'api-asg': () => ({ AutoScalingGroupName: tierOf('api').asg.name }),
      'db-cluster': () => ({ DBClusterIdentifier: props.database.cluster.clusterIdentifier }),
      'cache-group': () => ({ ReplicationGroupId: props.cache.group.replicationGroupId }),
      'search-domain': () => ({ DomainName: props.search.domain.domainName, ClientId: ctx.accountId }),
    };
    const metricName = (m: AwsAlarmMetric) => (plan.role === 'primary' ? m.metric : m.secondaryMetric ?? m.metric);
    /** Percentiles go in extended_statistic, the rest in statistic. */
    const statistic = (stat: string) => (/^p\d/.test(stat) ? { extendedStatistic: stat } : { statistic: stat });
    for (const al of observabilityAlarms(def)) {
      const w = al.aws;
      if (w.kind === 'none') continue;
      const base = {
        alarmName: alarmName(def.name, plan.region, al.id),
        alarmDescription: al.summary,
        evaluationPeriods: w.kind === 'metric' ? w.evaluationPeriods ?? 3 : 3,
        treatMissingData: 'notBreaching',
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
        comparisonOperator: w.comparison,
        threshold: w.threshold,
      } satisfies Partial<CloudwatchMetricAlarmConfig>;
      const config: CloudwatchMetricAlarmConfig = w.kind === 'metric'
        ? { ...base, namespace: w.metric.namespace, metricName: metricName(w.metric), dimensions: dims[w.metric.target](), period: 60, ...statistic(w.metric.stat) }
        : {
          ...base,
          metricQuery: [
            { id: 'part', metric: { namespace: w.part.namespace, metricName: metricName(w.part), dimensions: dims[w.part.target](), period: 60, stat: w.part.stat } },
            { id: 'total', metric: { namespace: w.total.namespace, metricName: metricName(w.total), dimensions: dims[w.total.target](), period: 60, stat: w.total.stat } },
            { id: 'percent', expression: '100 * part / MAX([total, 1])', label: `${al.id} %`, returnData: true },
          ],
        };
      this.alarms.push(new CloudwatchMetricAlarm(this, al.id, config));
    }

    // The dashboard draws the panels the local console draws (observabilityPanels: one list, two renderers).
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
