// One tier (front or API) of one region: a public ALB across the zones and an Auto Scaling group of
// instances in the private subnets, built from a launch template. The same construct serves both tiers;
// counts, health checks, drain time and scaling targets come from the definition.
import { Construct } from 'constructs';
import { Fn, Token } from 'cdktn';
import { Lb } from '@cdktn/provider-aws/lib/lb/index.js';
import { LbListener } from '@cdktn/provider-aws/lib/lb-listener/index.js';
import { LbListenerRule } from '@cdktn/provider-aws/lib/lb-listener-rule/index.js';
import { LbTargetGroup } from '@cdktn/provider-aws/lib/lb-target-group/index.js';
import { LaunchTemplate } from '@cdktn/provider-aws/lib/launch-template/index.js';
import { AutoscalingGroup } from '@cdktn/provider-aws/lib/autoscaling-group/index.js';
import { AutoscalingPolicy } from '@cdktn/provider-aws/lib/autoscaling-policy/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktn/provider-aws/lib/iam-role-policy-attachment/index.js';
import { IamInstanceProfile } from '@cdktn/provider-aws/lib/iam-instance-profile/index.js';
import { DataAwsSsmParameter } from '@cdktn/provider-aws/lib/data-aws-ssm-parameter/index.js';
import { APP_PORTS, BOOT_GRACE_SECONDS, FRONT_DRAIN_SECONDS, REFRESH_MIN_HEALTHY_PERCENT, ROOT_VOLUME_GB, alarmName, archFor, refreshAlarmIds, refreshCheckpoints, shortName, tierResourceName } from '../settings.js';
import { LOG_SHIPPER_KEY, userData } from '../user-data.js';
import { assumeRolePolicy, policyJson, type RegionContext, type Statement } from './common.js';
import type { Network } from './network.js';

/** The modern ALB TLS policy: TLS 1.3 and 1.2 with forward-secret ciphers only. */
export const ALB_TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export interface TierProps {
  tier: 'front' | 'api';
  network: Network;
  certificateArn: string;
  logsBucket: string;
  releasesBucketName: string;
  releasesBucketArn: string;
  /** The environment file of the instances (see userData). */
  env: Record<string, string>;
  /** Secrets read at boot into shell variables: name → secret id. */
  secrets: Record<string, string>;
  /** Extra least-privilege statements for the instance role (secrets). */
  statements: Statement[];
  searchEndpoint: string;
  searchDomainArn: string;
  /** The release version the launch template installs (the stack's `release_version` variable). */
  releaseVersion: string;
  /** Terraform boolean: start instances (false during the first deploy). */
  launch: string;
  /** The value CloudFront sends in ORIGIN_HEADER: requests without it are refused. */
  originSecret: string;
}

/** The header CloudFront adds to every origin request (edge-stack.ts); the listeners forward only with it. */
export const ORIGIN_HEADER = 'X-Origin-Verify';

export class Tier extends Construct {
  readonly alb: Lb;
  readonly targetGroup: LbTargetGroup;
  readonly asg: AutoscalingGroup;
  readonly role: IamRole;
  readonly template: LaunchTemplate;
  /** How a new launch template version rolls out (the group's instance_refresh and the deploy workflow's). */
  readonly refresh: { minHealthyPercentage: number; maxHealthyPercentage: number; checkpointPercentages: number[]; bakeSeconds: number; alarms: string[] };

  constructor(scope: Construct, id: string, ctx: RegionContext, props: TierProps) {
    super(scope, id);
    const { def, plan } = ctx;
    const { tier, network } = props;
    const spec = def[tier];
    const name = tierResourceName(def.name, plan.region, tier);
    const port = APP_PORTS[tier];
    const albSg = tier === 'front' ? network.groups.frontAlb : network.groups.apiAlb;
    const instanceSg = tier === 'front' ? network.groups.frontInstances : network.groups.apiInstances;

    this.alb = new Lb(this, 'alb', {
      name: shortName(def.name, tier),
      loadBalancerType: 'application',
      internal: false,
      subnets: network.publicSubnets.map((s) => s.id),
      securityGroups: [albSg.id, network.groups.cdnOrigin.id, network.groups.healthCheckers.id],
      // database.deletionProtection protects every resource with the switch (clusters and load balancers): one flag to tear down.
      enableDeletionProtection: def.database.deletionProtection,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: 'strictest',
      enableHttp2: true,
      idleTimeout: 60,
      accessLogs: { bucket: props.logsBucket, prefix: `alb/${tier}`, enabled: true },
    });

    const hc = spec.healthCheck;
    this.targetGroup = new LbTargetGroup(this, 'targets', {
      name: shortName(def.name, `${tier}-tg`),
      port,
      protocol: 'HTTP',
      vpcId: network.vpc.id,
      targetType: 'instance',
      // A short drain: the instance keeps serving in-flight requests this long after it leaves the pool
      // (static files finish fast: the front tier has its own, shorter drain).
      deregistrationDelay: String(tier === 'api' ? def.api.drainSeconds : FRONT_DRAIN_SECONDS),
      healthCheck: {
        enabled: true,
        // Liveness, not readiness: with ELB health checks on the group this is what replaces an instance, and a
        // database failover (every instance not ready at once) must not replace them all. Readiness decides at
        // the region level (Route 53, see dns.ts).
        path: hc.livenessPath,
        protocol: 'HTTP',
        matcher: '200',
        // ALB health checks run at most every 5 s; the definition's faster local interval is rounded up.
        interval: Math.max(5, Math.ceil(hc.intervalMs / 1000)),
        timeout: 4,
        healthyThreshold: Math.max(2, hc.rise),
        unhealthyThreshold: Math.max(2, hc.fall),
      },
    });

    // Only CloudFront (with the secret header) reaches the application; Route 53's health checkers, which
    // cannot send a header, reach the path they check alone (the API's is the region health, regions.dns.healthPath).
    // Anything else gets a 403.
    const https = new LbListener(this, 'https', {
      loadBalancerArn: this.alb.arn,
      port: 443,
      protocol: 'HTTPS',
      sslPolicy: ALB_TLS_POLICY,
      certificateArn: props.certificateArn,
      defaultAction: [{ type: 'fixed-response', fixedResponse: { contentType: 'text/plain', statusCode: '403', messageBody: 'Forbidden: use the site address' } }],
    });
    const forward = [{ type: 'forward', targetGroupArn: this.targetGroup.arn }];
    new LbListenerRule(this, 'from-cloudfront', {
      listenerArn: https.arn, priority: 10, action: forward,
      condition: [{ httpHeader: { httpHeaderName: ORIGIN_HEADER, values: [props.originSecret] } }],
    });
    new LbListenerRule(this, 'health-checkers', {
      listenerArn: https.arn, priority: 20, action: forward,
      condition: [{ pathPattern: { values: [tier === 'api' ? def.regions.dns.healthPath : hc.path] } }, { httpRequestMethod: { values: ['GET'] } }],
    });

    // Least privilege: read this tier's releases (and the optional log shipper package), decrypt them through S3
    // only (the bucket is encrypted with the region's key), the listed secrets, write logs to the search domain.
    this.role = new IamRole(this, 'role', { name, assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com') });
    new IamRolePolicy(this, 'policy', {
      role: this.role.id,
      policy: policyJson(
        { Sid: 'ReadReleases', Effect: 'Allow', Action: 's3:GetObject', Resource: [`${props.releasesBucketArn}/${tier}/*`, `${props.releasesBucketArn}/${LOG_SHIPPER_KEY}`] },
        { Sid: 'DecryptReleases', Effect: 'Allow', Action: 'kms:Decrypt', Resource: ctx.key.arn, Condition: { StringEquals: { 'kms:ViaService': `s3.${plan.region}.amazonaws.com` } } },
        { Sid: 'ShipLogs', Effect: 'Allow', Action: ['es:ESHttpPost', 'es:ESHttpPut'], Resource: `${props.searchDomainArn}/*` },
        ...props.statements,
      ),
    });
    // Session Manager instead of SSH: no key pair, no port 22.
    new IamRolePolicyAttachment(this, 'ssm', { role: this.role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' });
    const profile = new IamInstanceProfile(this, 'profile', { name, role: this.role.name });

    const arch = archFor(spec.instanceType);
    const ami = new DataAwsSsmParameter(this, 'ami', { name: `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}` });

    const script = userData({
      tier, name: def.name, region: plan.region,
      releasesBucket: props.releasesBucketName, env: props.env, secrets: props.secrets, searchEndpoint: props.searchEndpoint,
      releaseVersion: props.releaseVersion, nodeMajor: def.delivery.nodeMajor,
    });
    const template = (this.template = new LaunchTemplate(this, 'template', {
      name,
      imageId: ami.value,
      instanceType: spec.instanceType,
      updateDefaultVersion: true,
      iamInstanceProfile: { arn: profile.arn },
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: 'false', securityGroups: [instanceSg.id], deleteOnTermination: 'true' }],
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: ROOT_VOLUME_GB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }],
      monitoring: { enabled: true },
      userData: Fn.base64encode(script),
      // A new Amazon Linux image is published every few weeks: it must not roll every instance of both tiers at the
      // next unrelated apply. Take it on purpose: tofu apply -replace=<this launch template> (README).
      lifecycle: { ignoreChanges: ['image_id'] },
      tagSpecifications: [{ resourceType: 'instance', tags: { ...ctx.tags, Name: name, Tier: tier } }, { resourceType: 'volume', tags: { ...ctx.tags, Name: name } }],
    }));
    this.refresh = {
      minHealthyPercentage: REFRESH_MIN_HEALTHY_PERCENT,
      maxHealthyPercentage: 200,
      checkpointPercentages: refreshCheckpoints(spec.instances.desired),
      bakeSeconds: def.deploy.bakeSeconds,
      alarms: refreshAlarmIds(tier).map((id) => alarmName(def.name, plan.region, id)),
    };

    const warmup = def.scaling.scaleOutCooldownSeconds;
    this.asg = new AutoscalingGroup(this, 'asg', {
      name,
      // launch_instances=false (the first deploy, before any release or database user exists): no instance yet.
      minSize: Token.asNumber(Fn.conditional(props.launch, spec.instances.min, 0)),
      maxSize: spec.instances.max,
      desiredCapacity: Token.asNumber(Fn.conditional(props.launch, spec.instances.desired, 0)),
      vpcZoneIdentifier: network.privateSubnets.map((s) => s.id),
      // The default version (Terraform makes each new version the default; the deploy workflow makes its version
      // the default once its refresh succeeded): a version the deploy workflow created and rolled back is never used.
      launchTemplate: { id: template.id, version: Token.asString(template.defaultVersion) },
      targetGroupArns: [this.targetGroup.arn],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: BOOT_GRACE_SECONDS,
      defaultInstanceWarmup: warmup,
      waitForCapacityTimeout: '15m',
      enabledMetrics: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupPendingInstances', 'GroupTerminatingInstances', 'GroupTotalInstances'],
      // A new launch template version (a new release_version) rolls the group: start new, wait healthy, then stop
      // old; after the first instance, bake deploy.bakeSeconds; the tier's 5xx or latency alarm (or a failed
      // instance) rolls the group back to the previous launch template version, i.e. the previous release.
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: {
          minHealthyPercentage: this.refresh.minHealthyPercentage, maxHealthyPercentage: this.refresh.maxHealthyPercentage,
          autoRollback: true, skipMatching: true,
          checkpointPercentages: this.refresh.checkpointPercentages,
          checkpointDelay: String(this.refresh.bakeSeconds),
          alarmSpecification: { alarms: this.refresh.alarms },
        },
      },
      tag: [
        { key: 'Name', value: name, propagateAtLaunch: true },
        { key: 'Tier', value: tier, propagateAtLaunch: true },
      ],
      // Target tracking moves the desired capacity; Terraform must not fight it.
      lifecycle: { ignoreChanges: ['desired_capacity'] },
    });

    // Target tracking: CPU for both tiers; the API also tracks requests per instance (from the benchmark).
    new AutoscalingPolicy(this, 'cpu-target', {
      name: `${name}-cpu`,
      autoscalingGroupName: this.asg.name,
      policyType: 'TargetTrackingScaling',
      estimatedInstanceWarmup: warmup,
      targetTrackingConfiguration: {
        targetValue: def.scaling.targetCpuPercent,
        predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
      },
    });
    if (tier === 'api') {
      new AutoscalingPolicy(this, 'requests-target', {
        name: `${name}-requests`,
        autoscalingGroupName: this.asg.name,
        policyType: 'TargetTrackingScaling',
        estimatedInstanceWarmup: warmup,
        targetTrackingConfiguration: {
          // RequestCountPerTarget is counted per minute: rps × 60.
          targetValue: def.scaling.targetRpsPerInstance * 60,
          predefinedMetricSpecification: {
            predefinedMetricType: 'ALBRequestCountPerTarget',
            resourceLabel: `${this.alb.arnSuffix}/${this.targetGroup.arnSuffix}`,
          },
        },
      });
    }
  }
}
