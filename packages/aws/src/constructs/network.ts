// The VPC of one region: public, private (app) and isolated (data) subnets in every zone, one NAT
// gateway per zone (a zone outage never cuts the others off), flow logs, a default security group that
// allows nothing, and the security groups chained edge → ALB → instances → database/cache/search.
import { Construct } from 'constructs';
import { Vpc } from '@cdktn/provider-aws/lib/vpc/index.js';
import { Subnet } from '@cdktn/provider-aws/lib/subnet/index.js';
import { InternetGateway } from '@cdktn/provider-aws/lib/internet-gateway/index.js';
import { Eip } from '@cdktn/provider-aws/lib/eip/index.js';
import { NatGateway } from '@cdktn/provider-aws/lib/nat-gateway/index.js';
import { RouteTable } from '@cdktn/provider-aws/lib/route-table/index.js';
import { Route } from '@cdktn/provider-aws/lib/route/index.js';
import { RouteTableAssociation } from '@cdktn/provider-aws/lib/route-table-association/index.js';
import { DefaultSecurityGroup } from '@cdktn/provider-aws/lib/default-security-group/index.js';
import { SecurityGroup } from '@cdktn/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktn/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktn/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcEndpoint } from '@cdktn/provider-aws/lib/vpc-endpoint/index.js';
import { DataAwsEc2ManagedPrefixList } from '@cdktn/provider-aws/lib/data-aws-ec2-managed-prefix-list/index.js';
import { FlowLog } from '@cdktn/provider-aws/lib/flow-log/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { APP_PORTS, subnetCidrs } from '../settings.js';
import { assumeRolePolicy, policyJson, type RegionContext } from './common.js';

export type SecurityGroupName = 'frontAlb' | 'apiAlb' | 'cdnOrigin' | 'healthCheckers' | 'frontInstances' | 'apiInstances' | 'database' | 'cache' | 'search';

/** AWS-managed prefix lists of who may reach the load balancers: CloudFront's origin-facing servers, Route 53's health checkers. */
export const ORIGIN_PREFIX_LISTS = {
  cloudfront: 'com.amazonaws.global.cloudfront.origin-facing',
  healthCheckers: (region: string) => `com.amazonaws.${region}.route53-healthchecks`,
};

export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[] = [];
  readonly privateSubnets: Subnet[] = [];
  readonly isolatedSubnets: Subnet[] = [];
  readonly groups: Record<SecurityGroupName, SecurityGroup>;

  constructor(scope: Construct, id: string, ctx: RegionContext) {
    super(scope, id);
    const { def, plan } = ctx;
    const name = `${def.name}-${plan.region}`;
    this.vpc = new Vpc(this, 'vpc', { cidrBlock: plan.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } });
    const vpcId = this.vpc.id;

    // CKV2_AWS_12: the default security group carries no rule at all, so nothing can use it by accident.
    new DefaultSecurityGroup(this, 'default-sg', { vpcId, ingress: [], egress: [], tags: { Name: `${name}-default-deny` } });

    const igw = new InternetGateway(this, 'igw', { vpcId, tags: { Name: name } });
    const publicRt = new RouteTable(this, 'public-rt', { vpcId, tags: { Name: `${name}-public` } });
    new Route(this, 'public-default', { routeTableId: publicRt.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
    const isolatedRt = new RouteTable(this, 'isolated-rt', { vpcId, tags: { Name: `${name}-isolated (no internet route)` } });
    const privateRts: RouteTable[] = [];

    plan.zones.forEach((az, i) => {
      const cidr = subnetCidrs(plan.vpcCidr, i);
      const letter = az.slice(-1);
      const pub = new Subnet(this, `public-${letter}`, {
        vpcId, availabilityZone: az, cidrBlock: cidr.public, mapPublicIpOnLaunch: false, tags: { Name: `${name}-public-${letter}`, Tier: 'public' },
      });
      const priv = new Subnet(this, `private-${letter}`, {
        vpcId, availabilityZone: az, cidrBlock: cidr.private, tags: { Name: `${name}-private-${letter}`, Tier: 'private' },
      });
      const iso = new Subnet(this, `isolated-${letter}`, {
        vpcId, availabilityZone: az, cidrBlock: cidr.isolated, tags: { Name: `${name}-isolated-${letter}`, Tier: 'isolated' },
      });
      this.publicSubnets.push(pub);
      this.privateSubnets.push(priv);
      this.isolatedSubnets.push(iso);
      new RouteTableAssociation(this, `public-assoc-${letter}`, { subnetId: pub.id, routeTableId: publicRt.id });
      new RouteTableAssociation(this, `isolated-assoc-${letter}`, { subnetId: iso.id, routeTableId: isolatedRt.id });
      // One NAT per zone: instances in a zone keep egress when another zone fails.
      const eip = new Eip(this, `nat-eip-${letter}`, { domain: 'vpc', tags: { Name: `${name}-nat-${letter}` } });
      const nat = new NatGateway(this, `nat-${letter}`, { allocationId: eip.allocationId, subnetId: pub.id, tags: { Name: `${name}-${letter}` }, dependsOn: [igw] });
      const rt = new RouteTable(this, `private-rt-${letter}`, { vpcId, tags: { Name: `${name}-private-${letter}` } });
      new Route(this, `private-default-${letter}`, { routeTableId: rt.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });
      new RouteTableAssociation(this, `private-assoc-${letter}`, { subnetId: priv.id, routeTableId: rt.id });
      privateRts.push(rt);
    });

    // Release downloads from S3 stay on the AWS network (and off the NAT bill).
    new VpcEndpoint(this, 's3-endpoint', {
      vpcId, serviceName: `com.amazonaws.${plan.region}.s3`, vpcEndpointType: 'Gateway', routeTableIds: privateRts.map((r) => r.id),
      tags: { Name: `${name}-s3` },
    });

    // CKV2_AWS_11: every accepted and rejected flow goes to an encrypted log group.
    const flowLogs = new CloudwatchLogGroup(this, 'flow-logs', {
      name: `/${def.name}/vpc-flow-logs/${plan.region}`, retentionInDays: def.observability.logRetentionDays, kmsKeyId: ctx.key.arn,
    });
    const flowRole = new IamRole(this, 'flow-logs-role', { name: `${name}-flow-logs`, assumeRolePolicy: assumeRolePolicy('vpc-flow-logs.amazonaws.com') });
    new IamRolePolicy(this, 'flow-logs-policy', {
      role: flowRole.id,
      policy: policyJson({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        Resource: [flowLogs.arn, `${flowLogs.arn}:*`],
      }),
    });
    new FlowLog(this, 'flow-log', { vpcId, trafficType: 'ALL', logDestinationType: 'cloud-watch-logs', logDestination: flowLogs.arn, iamRoleArn: flowRole.arn, maxAggregationInterval: 60 });

    const sg = (key: SecurityGroupName, description: string) =>
      new SecurityGroup(this, `sg-${key}`, { name: `${name}-${key}`, description, vpcId, tags: { Name: `${name}-${key}` }, lifecycle: { createBeforeDestroy: true } });
    this.groups = {
      frontAlb: sg('frontAlb', 'Front load balancer: to the front instances (ingress: cdnOrigin, healthCheckers)'),
      apiAlb: sg('apiAlb', 'API load balancer: to the API instances (ingress: cdnOrigin, healthCheckers)'),
      // Two groups because a prefix list counts its weight against the rules-per-group quota (60): CloudFront 55, Route 53 25.
      cdnOrigin: sg('cdnOrigin', 'Load balancers: HTTPS from CloudFront origin-facing servers only'),
      healthCheckers: sg('healthCheckers', 'Load balancers: HTTPS from Route 53 health checkers only'),
      frontInstances: sg('frontInstances', 'Front instances: only from the front load balancer'),
      apiInstances: sg('apiInstances', 'API instances: only from the API load balancer'),
      database: sg('database', 'Aurora: MySQL only from the API instances'),
      cache: sg('cache', 'ElastiCache: Redis only from the API instances'),
      search: sg('search', 'OpenSearch: HTTPS only from the instances that ship logs'),
    };
    const g = this.groups;
    const ingress = (id: string, to: SecurityGroup, port: number, from: SecurityGroup | string | DataAwsEc2ManagedPrefixList, description: string) =>
      new VpcSecurityGroupIngressRule(this, `in-${id}`, {
        securityGroupId: to.id, ipProtocol: 'tcp', fromPort: port, toPort: port, description,
        ...(typeof from === 'string' ? { cidrIpv4: from } : from instanceof DataAwsEc2ManagedPrefixList ? { prefixListId: from.id } : { referencedSecurityGroupId: from.id }),
      });
    // Nothing else reaches the load balancers: not the internet, so neither the WAF nor CloudFront can be bypassed
    // (the listeners also require CloudFront's secret header, see tier.ts). No port 80: CloudFront and the
    // health checkers speak HTTPS only.
    const cloudfront = new DataAwsEc2ManagedPrefixList(this, 'cloudfront-origin-facing', { name: ORIGIN_PREFIX_LISTS.cloudfront });
    const checkers = new DataAwsEc2ManagedPrefixList(this, 'route53-health-checkers', { name: ORIGIN_PREFIX_LISTS.healthCheckers(plan.region) });
    ingress('alb-from-cloudfront', g.cdnOrigin, 443, cloudfront, 'HTTPS from CloudFront origin-facing servers');
    ingress('alb-from-health-checkers', g.healthCheckers, 443, checkers, 'HTTPS from Route 53 health checkers (readiness path only, see the listener rules)');
    const egress = (id: string, from: SecurityGroup, port: number, to: SecurityGroup | string, description: string) =>
      new VpcSecurityGroupEgressRule(this, `out-${id}`, {
        securityGroupId: from.id, ipProtocol: 'tcp', fromPort: port, toPort: port, description,
        ...(typeof to === 'string' ? { cidrIpv4: to } : { referencedSecurityGroupId: to.id }),
      });
    for (const tier of ['front', 'api'] as const) {
      const alb = tier === 'front' ? g.frontAlb : g.apiAlb;
      const inst = tier === 'front' ? g.frontInstances : g.apiInstances;
      egress(`${tier}-alb-to-instances`, alb, APP_PORTS[tier], inst, `to the ${tier} instances`);
      ingress(`${tier}-instances-from-alb`, inst, APP_PORTS[tier], alb, `from the ${tier} load balancer`);
      egress(`${tier}-instances-https`, inst, 443, '0.0.0.0/0', 'HTTPS to AWS APIs (S3 releases, Secrets Manager, SSM) and OS packages');
      egress(`${tier}-instances-to-search`, inst, 443, g.search, 'ship logs to OpenSearch');
      ingress(`search-from-${tier}`, g.search, 443, inst, `logs from the ${tier} instances`);
    }
    egress('api-to-db', g.apiInstances, 3306, g.database, 'MySQL to Aurora');
    ingress('db-from-api', g.database, 3306, g.apiInstances, 'MySQL from the API instances');
    egress('api-to-cache', g.apiInstances, 6379, g.cache, 'Redis (TLS) to ElastiCache');
    ingress('cache-from-api', g.cache, 6379, g.apiInstances, 'Redis from the API instances');
  }
}
