// Every drill scenario of packages/drills is an AWS FIS experiment template (or is listed with the reason it
// cannot be), stopped by the region's 5xx alarms, run by a role FIS can assume.
import { beforeAll, describe, expect, it } from 'vitest';
import { scenarioNames } from '@conduit/drills';
import { FIS_NOT_SYNTHESIZED } from '../src/constructs/fis.js';
import { statementsOf } from '../src/policy/access.js';
import type { SynthJson } from '../src/policy/rules.js';
import { all, examples, one, synthDefinition } from './helpers.js';

let primary: SynthJson;
let secondary: SynthJson;
const templates = (json: SynthJson) => Object.fromEntries(all(json, 'aws_fis_experiment_template').map(([, c]) => [c.tags.Drill as string, c]));

beforeAll(() => {
  const s = synthDefinition(examples.complete!);
  primary = s.stacks['conduit-prod-us-east-1']!;
  secondary = s.stacks['conduit-prod-us-west-2']!;
});

describe('FIS experiment templates (the drills on AWS)', () => {
  it('cover every drill scenario of the primary region, except those listed with a reason', () => {
    const covered = Object.keys(templates(primary)).sort();
    expect(covered).toEqual(scenarioNames.filter((n) => !(n in FIS_NOT_SYNTHESIZED)).sort());
    for (const reason of Object.values(FIS_NOT_SYNTHESIZED)) expect(reason.length).toBeGreaterThan(40);
    // The writer is in the primary region: failover and reboot templates exist there only.
    expect(Object.keys(templates(secondary)).sort()).toEqual(['api-instance-kill', 'cache-primary-kill', 'cache-total-loss', 'front-instance-kill']);
  });

  it('use the FIS actions the drills README maps each scenario to, on this region\'s resources', () => {
    const t = templates(primary);
    const actions = (name: string) => t[name]!.action.map((a: { action_id: string }) => a.action_id).sort();
    expect(actions('api-instance-kill')).toEqual(['aws:ec2:terminate-instances']);
    expect(t['api-instance-kill']!.target[0]).toMatchObject({ resource_type: 'aws:ec2:instance', selection_mode: 'COUNT(1)', resource_tag: [{ key: 'aws:autoscaling:groupName' }] });
    expect(t['api-instance-kill']!.target[0].resource_tag[0].value).toMatch(/aws_autoscaling_group\.api_asg/);
    expect(actions('db-primary-kill')).toEqual(['aws:rds:failover-db-cluster']);
    expect(actions('db-maintenance')).toEqual(['aws:rds:reboot-db-instances']);
    expect(actions('cache-primary-kill')).toEqual(['aws:elasticache:replicationgroup-interrupt-az-power']);
    expect(t['cache-total-loss']!.target.map((x: { parameters: { availabilityZoneIdentifier: string } }) => x.parameters.availabilityZoneIdentifier)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(actions('zone-loss')).toEqual(['aws:elasticache:replicationgroup-interrupt-az-power', 'aws:network:disrupt-connectivity', 'aws:rds:failover-db-cluster']);
    expect(actions('repeated-primary-kill')).toEqual(['aws:fis:wait', 'aws:fis:wait', 'aws:rds:failover-db-cluster', 'aws:rds:failover-db-cluster', 'aws:rds:failover-db-cluster']);
    expect(t['repeated-primary-kill']!.action.map((a: { name: string; start_after?: string[] }) => `${a.name}<${a.start_after?.join(',') ?? ''}`))
      .toEqual(['failover-1<', 'wait-1<failover-1', 'failover-2<wait-1', 'wait-2<failover-2', 'failover-3<wait-2']);
    // Each action names a target of its own template (a wait has none).
    for (const tpl of Object.values(t)) {
      const names = tpl.target.map((x: { name: string }) => x.name);
      for (const a of tpl.action) if (a.action_id !== 'aws:fis:wait') expect(names).toContain(a.target.value);
    }
  });

  it('stop on the region\'s front and API 5xx alarms and run with a role only FIS can assume', () => {
    for (const tpl of Object.values(templates(primary))) {
      expect(tpl.stop_condition.map((c: { source: string }) => c.source)).toEqual(['aws:cloudwatch:alarm', 'aws:cloudwatch:alarm']);
      expect(tpl.stop_condition.map((c: { value: string }) => c.value).join(' ')).toMatch(/front-5xx-percent.*api-5xx-percent|api-5xx-percent.*front-5xx-percent/);
      expect(tpl.role_arn).toMatch(/aws_iam_role\.fis_role/);
    }
    const role = one(primary, 'aws_iam_role', 'fis_role');
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: 'fis.amazonaws.com' });
    const cache = statementsOf(one(primary, 'aws_iam_role_policy', 'fis_cache').policy);
    expect(cache[0]).toMatchObject({ Action: 'elasticache:InterruptClusterAzPower' });
    expect(String(cache[0]!.Resource)).toMatch(/aws_elasticache_replication_group/);
  });
});
