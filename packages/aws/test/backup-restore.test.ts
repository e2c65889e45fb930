// Backups on AWS as behaviour: the daily snapshot export is a scheduler call whose roles can do exactly
// what rds:StartExportTask needs (evaluated on the synthesized IAM documents, not read off attributes),
// its hour never falls inside Aurora's backup window or AWS Backup's; and database.restore turns into the
// cluster arguments that restore it, with the Global Database made from the restored cluster.
import { describe, expect, it } from 'vitest';
import { resolve, DefinitionError } from '@conduit/definition';
import { all, examples, one, synthDefinition } from './helpers.js';
import { backupSchedule, exportSchedule } from '../src/constructs/backup.js';
import type { SynthJson } from '../src/policy/rules.js';

type Doc = { Statement: Array<{ Effect: string; Action: string | string[]; Resource: string | string[]; Principal?: { Service?: string }; Condition?: Record<string, Record<string, string>> }> };
const list = <T>(x: T | T[]) => (Array.isArray(x) ? x : [x]);
const glob = (pattern: string, value: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);
/** IAM's answer for one action on one resource (Allow statements only; these documents have no Deny). */
const allows = (doc: Doc, action: string, resource: string) =>
  doc.Statement.some((s) => s.Effect === 'Allow' && list(s.Action).some((a) => glob(a, action)) && list(s.Resource).some((r) => glob(r, resource)));
const ref = (type: string, name: string, attr: string) => `\${${type}.${name}.${attr}}`;
const named = (json: SynthJson, type: string, part: string) => all(json, type).find(([n]) => n.includes(part))!;

describe('the daily snapshot export (EventBridge Scheduler → rds:StartExportTask)', () => {
  const s = synthDefinition(examples.complete!);
  const primary = s.stacks['conduit-prod-us-east-1']!;
  const schedule = one(primary, 'aws_scheduler_schedule');
  const input = JSON.parse(schedule.target.input) as Record<string, string>;
  const [exportName, exportRole] = named(primary, 'aws_iam_role', 'export-role');
  const [schedulerName, schedulerRole] = named(primary, 'aws_iam_role', 'scheduler-role');
  const policyOf = (role: string) => JSON.parse(all(primary, 'aws_iam_role_policy').find(([, c]) => c.role === ref('aws_iam_role', role, 'id'))![1].policy) as Doc;
  const [clusterName] = named(primary, 'aws_rds_cluster', 'cluster');
  const [bucketName] = all(primary, 'aws_s3_bucket').find(([, c]) => String(c.bucket_prefix).endsWith('-backups-'))!;

  it('calls StartExportTask with every argument it requires, a unique id per run, the cluster, the backups bucket, the key', () => {
    expect(schedule.target.arn).toBe('arn:aws:scheduler:::aws-sdk:rds:startExportTask');
    expect(input.ExportTaskIdentifier).toBe('conduit-prod-<aws.scheduler.execution-id>');
    expect(input.SourceArn).toBe(ref('aws_rds_cluster', clusterName, 'arn'));
    expect(input.S3BucketName).toBe(ref('aws_s3_bucket', bucketName, 'bucket'));
    expect(input.IamRoleArn).toBe(ref('aws_iam_role', exportName, 'arn'));
    expect(input.KmsKeyId).toMatch(/^\$\{aws_kms_key\..*\.arn\}$/);
    expect(all(s.stacks['conduit-prod-us-west-2']!, 'aws_scheduler_schedule')).toHaveLength(0); // the secondary's cluster is a Global Database member
  });

  it('the scheduler may start exports of this cluster and pass the export role, nothing more', () => {
    expect(schedule.target.role_arn).toBe(ref('aws_iam_role', schedulerName, 'arn'));
    expect(JSON.parse(schedulerRole.assume_role_policy).Statement[0].Principal.Service).toBe('scheduler.amazonaws.com');
    const p = policyOf(schedulerName);
    expect(allows(p, 'rds:StartExportTask', input.SourceArn!)).toBe(true);
    expect(allows(p, 'rds:StartExportTask', 'arn:aws:rds:us-east-1:1:cluster:another')).toBe(false);
    expect(allows(p, 'iam:PassRole', input.IamRoleArn!)).toBe(true);
    expect(allows(p, 'iam:PassRole', 'arn:aws:iam::1:role/admin')).toBe(false);
    expect(allows(p, 'kms:CreateGrant', input.KmsKeyId!)).toBe(true);
    expect(allows(p, 'rds:DeleteDBCluster', input.SourceArn!)).toBe(false);
  });

  it('the export role, trusted by RDS exports only, may write under exports/ of the backups bucket only', () => {
    expect(JSON.parse(exportRole.assume_role_policy).Statement[0].Principal.Service).toBe('export.rds.amazonaws.com');
    const p = policyOf(exportName);
    const bucketArn = ref('aws_s3_bucket', bucketName, 'arn');
    expect(allows(p, 's3:PutObject', `${bucketArn}/exports/conduit-prod-x/part-0.parquet`)).toBe(true);
    expect(allows(p, 's3:ListBucket', bucketArn)).toBe(true);
    expect(allows(p, 's3:PutObject', `${bucketArn}/other/x`)).toBe(false);
    expect(allows(p, 's3:DeleteBucket', bucketArn)).toBe(false);
  });

  it('runs outside the backup window and after AWS Backup, for every window and cadence', () => {
    const hoursOf = (cron: string) => /^cron\(0 ([\d,]+) \* \* \? \*\)$/.exec(cron)![1]!.split(',').map(Number);
    expect(schedule.schedule_expression).toBe(exportSchedule(24, '02:00-03:00'));
    for (const window of ['02:00-03:00', '22:30-23:30', '23:00-00:00']) {
      for (const every of [6, 12, 24, 48]) {
        const start = Number(window.slice(0, 2));
        const backupHours = hoursOf(backupSchedule(every, window));
        for (const h of hoursOf(exportSchedule(every, window))) {
          expect(h === start).toBe(false); // not inside Aurora's window (it starts at :00 or :30 of `start`)
          // AWS Backup starts at most 60 min after its hour: the export is at least 4 h after the window end.
          expect(backupHours.includes(h)).toBe(false);
        }
      }
    }
  });
});

describe('database.restore', () => {
  it('a snapshot into a Global Database: the primary cluster restores it, the global cluster is made from it', () => {
    const s = synthDefinition({ ...examples.complete!, database: { ...(examples.complete!.database ?? {}), restore: { snapshot: 'arn:aws:rds:us-east-1:1:cluster-snapshot:awsbackup:job-1' } } });
    const primary = s.stacks['conduit-prod-us-east-1']!;
    const [clusterName, cluster] = named(primary, 'aws_rds_cluster', 'cluster');
    expect(cluster.snapshot_identifier).toBe('arn:aws:rds:us-east-1:1:cluster-snapshot:awsbackup:job-1');
    expect(cluster.global_cluster_identifier).toBeUndefined();
    expect(cluster.database_name).toBeUndefined();
    expect(cluster.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['snapshot_identifier', 'global_cluster_identifier']));
    const global = one(primary, 'aws_rds_global_cluster');
    expect(global.source_db_cluster_identifier).toBe(ref('aws_rds_cluster', clusterName, 'arn'));
    expect(global.engine).toBeUndefined();
    // The secondary region still joins the same global cluster by its identifier.
    const secondary = one(s.stacks['conduit-prod-us-west-2']!, 'aws_rds_cluster', 'cluster');
    expect(secondary.global_cluster_identifier).toBe(global.global_cluster_identifier);
    expect(secondary.snapshot_identifier).toBeUndefined();
  });

  it('a point in time of another cluster (single region): a copy-on-write clone at that second, or its latest restorable time', () => {
    const base = examples['single-region']!;
    const at = synthDefinition({ ...base, database: { ...(base.database ?? {}), restore: { pointInTime: { sourceCluster: 'conduit-small-eu-west-1-old', time: '2026-11-29T18:31:36Z' } } } });
    const c = one(at.stacks['conduit-small-eu-west-1']!, 'aws_rds_cluster', 'cluster');
    expect(c.restore_to_point_in_time).toEqual({ source_cluster_identifier: 'conduit-small-eu-west-1-old', restore_type: 'copy-on-write', restore_to_time: '2026-11-29T18:31:36Z' });
    const latest = synthDefinition({ ...base, database: { ...(base.database ?? {}), restore: { pointInTime: { sourceCluster: 'old', time: 'latest' } } } });
    expect(one(latest.stacks['conduit-small-eu-west-1']!, 'aws_rds_cluster', 'cluster').restore_to_point_in_time.use_latest_restorable_time).toBe(true);
  });

  it('refuses a time that is not ISO 8601 and both kinds at once', () => {
    expect(() => resolve({ database: { restore: { pointInTime: { sourceCluster: 'x', time: 'yesterday' } } } })).toThrow(DefinitionError);
    expect(() => resolve({ database: { restore: { snapshot: 'a', pointInTime: { sourceCluster: 'x', time: 'latest' } } as never } })).toThrow(DefinitionError);
  });
});
