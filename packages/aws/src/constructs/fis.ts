// The local drills (packages/drills) as AWS Fault Injection Service experiment templates, one per scenario,
// with the FIS actions the drills README maps them to. Each stops by itself when the region's front or API
// 5xx alarm fires (stop conditions), and runs with a role that may do exactly these faults. Start one with
// `aws fis start-experiment --experiment-template-id <id>` (ids: the `fis_templates` output) while traffic flows.
import { Construct } from 'constructs';
import { FisExperimentTemplate, type FisExperimentTemplateAction, type FisExperimentTemplateTarget } from '@cdktn/provider-aws/lib/fis-experiment-template/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktn/provider-aws/lib/iam-role-policy-attachment/index.js';
import type { CloudwatchMetricAlarm } from '@cdktn/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { assumeRolePolicy, policyJson, type RegionContext } from './common.js';
import type { Tier } from './tier.js';
import type { Database } from './database.js';
import type { Cache } from './cache.js';
import type { Network } from './network.js';

/** How long a fault lasts where FIS takes a duration (the drills' fault window is seconds; AWS services need minutes). */
export const FIS_FAULT_DURATION = 'PT5M';

/**
 * Drill scenarios with no FIS template, and why. (Every other scenario of packages/drills has one; a test
 * compares this with the drills' list so a new drill cannot be forgotten.)
 */
export const FIS_NOT_SYNTHESIZED: Record<string, string> = {
  'replica-lag':
    'FIS has no action that delays Aurora replication; Aurora itself takes a lagging reader out of the reader endpoint, which is what the local drill checks of HAProxy.',
  deploy:
    'not a fault: on AWS a deploy is an Auto Scaling instance refresh with auto-rollback on the tier alarms (.github/workflows/deploy-region.yml).',
  'deploy-bad-health':
    'not a fault: an instance refresh whose instances fail the health check stops and rolls back by itself (auto-rollback); shown by deploying a bad release to staging.',
  'deploy-bad-errors':
    'not a fault: the instance refresh rolls back on the tier 5xx alarm (alarm specification); shown by deploying a bad release to staging.',
  'supervisor-kill':
    "the local region's own control plane; on AWS the controllers are managed, redundant services (Auto Scaling, RDS, ElastiCache).",
  'replicas-lost-then-primary-dies':
    'Aurora acknowledges a commit only once its storage quorum (4 of 6 copies over 3 zones) holds it, whatever its readers do: a writer committing alone, which this drill checks the local controller refuses to fail over, cannot happen there.',
  'supervisor-kill-during-failover':
    "the local region's own control plane; on AWS the controllers are managed, redundant services (Auto Scaling, RDS, ElastiCache).",
};

export interface FisProps {
  tiers: { front: Tier; api: Tier };
  database: Database;
  cache: Cache;
  network: Network;
  /** Alarms that stop any experiment (the region's 5xx alarms). */
  stopAlarms: CloudwatchMetricAlarm[];
}

type Template = { description: string; targets: FisExperimentTemplateTarget[]; actions: FisExperimentTemplateAction[] };

export class FaultInjection extends Construct {
  readonly templates: Record<string, FisExperimentTemplate> = {};
  readonly role: IamRole;
  constructor(scope: Construct, id: string, ctx: RegionContext, props: FisProps) {
    super(scope, id);
    const { def, plan, accountId } = ctx;
    const prefix = `${def.name}-${plan.region}`;
    this.role = new IamRole(this, 'role', { name: `${prefix}-fis`, assumeRolePolicy: assumeRolePolicy('fis.amazonaws.com') });
    // AWS's managed FIS policies: terminate instances, fail over/reboot Aurora, network disruption (scoped by FIS).
    for (const [i, policy] of ['AWSFaultInjectionSimulatorEC2Access', 'AWSFaultInjectionSimulatorRDSAccess', 'AWSFaultInjectionSimulatorNetworkAccess'].entries()) {
      new IamRolePolicyAttachment(this, `managed-${i}`, { role: this.role.name, policyArn: `arn:aws:iam::aws:policy/service-role/${policy}` });
    }
    new IamRolePolicy(this, 'cache', {
      role: this.role.id,
      policy: policyJson(
        { Sid: 'InterruptCacheAz', Effect: 'Allow', Action: 'elasticache:InterruptClusterAzPower', Resource: props.cache.group.arn },
        { Sid: 'FindCache', Effect: 'Allow', Action: ['elasticache:DescribeReplicationGroups', 'tag:GetResources'], Resource: '*' },
      ),
    });

    const asgTarget = (tier: Tier, name: string): FisExperimentTemplateTarget => ({
      name, resourceType: 'aws:ec2:instance', selectionMode: 'COUNT(1)',
      resourceTag: [{ key: 'aws:autoscaling:groupName', value: tier.asg.name }],
      filter: [{ path: 'State.Name', values: ['running'] }],
    });
    const terminate = (target: string): FisExperimentTemplateAction => ({ name: 'terminate', actionId: 'aws:ec2:terminate-instances', target: { key: 'Instances', value: target } });
    const clusterTarget: FisExperimentTemplateTarget = { name: 'cluster', resourceType: 'aws:rds:cluster', selectionMode: 'ALL', resourceArns: [props.database.cluster.arn] };
    const cacheTarget = (zone: string): FisExperimentTemplateTarget => ({
      name: `cache-${zone.slice(-1)}`, resourceType: 'aws:elasticache:replicationgroup', selectionMode: 'ALL',
      resourceArns: [props.cache.group.arn], parameters: { availabilityZoneIdentifier: zone },
    });
    const interruptCache = (zone: string): FisExperimentTemplateAction => ({
      name: `cache-power-${zone.slice(-1)}`, actionId: 'aws:elasticache:replicationgroup-interrupt-az-power',
      target: { key: 'ReplicationGroups', value: `cache-${zone.slice(-1)}` }, parameter: [{ key: 'duration', value: FIS_FAULT_DURATION }],
    });
    const primaryZone = `${plan.region}${def.cacheNodes[0]!.zone}`;
    const lostZone = `${plan.region}${def.dbNodes[0]!.zone}`;
    const zoneIndex = plan.zones.indexOf(lostZone);
    const subnetArn = (id: string) => `arn:aws:ec2:${plan.region}:${accountId}:subnet/${id}`;

    const templates: Record<string, Template> = {
      'api-instance-kill': { description: 'terminate one API instance (the group replaces it)', targets: [asgTarget(props.tiers.api, 'api')], actions: [terminate('api')] },
      'front-instance-kill': { description: 'terminate one front instance (the group replaces it)', targets: [asgTarget(props.tiers.front, 'front')], actions: [terminate('front')] },
      'cache-primary-kill': {
        description: `cut power to the cache nodes of ${primaryZone} (the primary's zone): ElastiCache promotes a replica`,
        targets: [cacheTarget(primaryZone)], actions: [interruptCache(primaryZone)],
      },
      'cache-total-loss': {
        description: 'cut power to the cache nodes of every zone: the API serves from the database',
        targets: plan.zones.map(cacheTarget), actions: plan.zones.map(interruptCache),
      },
    };
    // Aurora failover and reboot act on the cluster that has the writer: the primary region's.
    if (plan.role === 'primary') {
      templates['db-primary-kill'] = { description: 'fail the Aurora writer over to a reader', targets: [clusterTarget], actions: [{ name: 'failover', actionId: 'aws:rds:failover-db-cluster', target: { key: 'Clusters', value: 'cluster' } }] };
      // Three failovers 20 s apart (the drill's repeatEveryMs): Aurora must be back to full strength between them.
      const failover = (n: number, after?: string): FisExperimentTemplateAction => ({ name: `failover-${n}`, actionId: 'aws:rds:failover-db-cluster', target: { key: 'Clusters', value: 'cluster' }, ...(after ? { startAfter: [after] } : {}) });
      const pause = (n: number, after: string): FisExperimentTemplateAction => ({ name: `wait-${n}`, actionId: 'aws:fis:wait', parameter: [{ key: 'duration', value: 'PT20S' }], startAfter: [after] });
      templates['repeated-primary-kill'] = {
        description: 'fail the Aurora writer over three times, 20 s apart',
        targets: [clusterTarget],
        actions: [failover(1), pause(1, 'failover-1'), failover(2, 'wait-1'), pause(2, 'failover-2'), failover(3, 'wait-2')],
      };
      templates['db-maintenance'] = {
        description: 'reboot the preferred writer instance (a maintenance restart)',
        targets: [{ name: 'writer', resourceType: 'aws:rds:db', selectionMode: 'ALL', resourceArns: [props.database.instances[0]!.arn] }],
        actions: [{ name: 'reboot', actionId: 'aws:rds:reboot-db-instances', target: { key: 'DBInstances', value: 'writer' } }],
      };
      templates['zone-loss'] = {
        description: `lose ${lostZone}: its subnets cut off, the Aurora writer failed over, the cache nodes there powered off`,
        targets: [
          {
            name: 'subnets', resourceType: 'aws:ec2:subnet', selectionMode: 'ALL',
            resourceArns: [props.network.privateSubnets[zoneIndex]!, props.network.isolatedSubnets[zoneIndex]!].map((s) => subnetArn(s.id)),
          },
          clusterTarget,
          cacheTarget(lostZone),
        ],
        actions: [
          { name: 'cut-zone', actionId: 'aws:network:disrupt-connectivity', target: { key: 'Subnets', value: 'subnets' }, parameter: [{ key: 'scope', value: 'all' }, { key: 'duration', value: FIS_FAULT_DURATION }] },
          { name: 'failover', actionId: 'aws:rds:failover-db-cluster', target: { key: 'Clusters', value: 'cluster' } },
          interruptCache(lostZone),
        ],
      };
    }

    for (const [scenario, t] of Object.entries(templates)) {
      this.templates[scenario] = new FisExperimentTemplate(this, scenario, {
        description: `${def.name} drill ${scenario}: ${t.description}`.slice(0, 512),
        roleArn: this.role.arn,
        stopCondition: props.stopAlarms.map((a) => ({ source: 'aws:cloudwatch:alarm', value: a.arn })),
        target: t.targets,
        action: t.actions,
        tags: { Name: `${prefix}-${scenario}`, Drill: scenario },
      });
    }
  }
}
