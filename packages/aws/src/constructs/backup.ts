// AWS Backup of the Aurora cluster: a vault encrypted with the region's key, a plan that takes a backup
// every backup.fullEveryHours and keeps it backup.retentionDays, and (backup.copyToSecondary) a copy of each
// recovery point to the vault of the other region — whose name is deterministic, so no cross-stack lookup.
import { Construct } from 'constructs';
import { BackupVault } from '@cdktn/provider-aws/lib/backup-vault/index.js';
import { BackupPlan } from '@cdktn/provider-aws/lib/backup-plan/index.js';
import { BackupVaultLockConfiguration } from '@cdktn/provider-aws/lib/backup-vault-lock-configuration/index.js';
import { BackupSelection } from '@cdktn/provider-aws/lib/backup-selection/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { IamRolePolicyAttachment } from '@cdktn/provider-aws/lib/iam-role-policy-attachment/index.js';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy/index.js';
import { SchedulerSchedule } from '@cdktn/provider-aws/lib/scheduler-schedule/index.js';
import { assumeRolePolicy, policyJson, type RegionContext } from './common.js';

export const vaultName = (name: string, region: string) => `${name}-${region}`;

/**
 * cron for "every N hours from the end of the backup window": daily (or less often) at the hour the window ends,
 * so AWS Backup's snapshot never overlaps Aurora's own automated backup, which runs inside the window.
 */
export function backupSchedule(fullEveryHours: number, window: string): string {
  const hour = Number(window.slice(6, 8));
  if (fullEveryHours >= 24) return `cron(0 ${hour} * * ? *)`;
  const hours = Array.from({ length: Math.floor(24 / fullEveryHours) }, (_, i) => (hour + i * fullEveryHours) % 24).sort((x, y) => x - y);
  return `cron(0 ${hours.join(',')} * * ? *)`;
}

export class Backup extends Construct {
  readonly vault: BackupVault;
  constructor(scope: Construct, id: string, ctx: RegionContext, props: { clusterArn: string | null }) {
    super(scope, id);
    const { def, plan, key, accountId } = ctx;
    this.vault = new BackupVault(this, 'vault', { name: vaultName(def.name, plan.region), kmsKeyArn: key.arn });
    // Vault Lock in governance mode: recovery points cannot be deleted before backup.retentionDays, except by a
    // principal allowed to remove the lock (compliance mode, which nobody can undo, is a decision for the operator).
    new BackupVaultLockConfiguration(this, 'lock', { backupVaultName: this.vault.name, minRetentionDays: def.backup.retentionDays, maxRetentionDays: 365 });
    if (!props.clusterArn) return; // The secondary region's vault only receives copies.
    const lifecycle = { deleteAfter: def.backup.retentionDays };
    const copy = def.backup.copyToSecondary && plan.peer !== null;
    const backupPlan = new BackupPlan(this, 'plan', {
      name: `${def.name}-${plan.region}-database`,
      rule: [
        {
          ruleName: 'database',
          targetVaultName: this.vault.name,
          schedule: backupSchedule(def.backup.fullEveryHours, def.backup.window),
          startWindow: 60,
          completionWindow: 180,
          lifecycle,
          ...(copy ? { copyAction: [{ destinationVaultArn: `arn:aws:backup:${plan.peer}:${accountId}:backup-vault:${vaultName(def.name, plan.peer!)}`, lifecycle }] } : {}),
        },
      ],
    });
    const role = new IamRole(this, 'role', { name: `${def.name}-${plan.region}-backup`, assumeRolePolicy: assumeRolePolicy('backup.amazonaws.com') });
    new IamRolePolicyAttachment(this, 'role-backup', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup' });
    new IamRolePolicyAttachment(this, 'role-restore', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores' });
    new BackupSelection(this, 'selection', { name: 'aurora', planId: backupPlan.id, iamRoleArn: role.arn, resources: [props.clusterArn] });
  }
}

/** The snapshot export's cron: at the AWS Backup schedule's hours shifted by EXPORT_AFTER_BACKUP_HOURS (never inside either window). */
export const EXPORT_AFTER_BACKUP_HOURS = 4;
export function exportSchedule(fullEveryHours: number, window: string): string {
  const shifted = `${window.slice(0, 6)}${String((Number(window.slice(6, 8)) + EXPORT_AFTER_BACKUP_HOURS) % 24).padStart(2, '0')}${window.slice(8)}`;
  return backupSchedule(Math.max(fullEveryHours, 24), shifted);
}

/**
 * "Snapshots kept in S3": EventBridge Scheduler calls rds:StartExportTask directly (universal target, no
 * Lambda) once a day, exporting the cluster's data as Parquet to the backups bucket, encrypted with the
 * region's key. The scheduler's role may start exports of this cluster only and pass the export role; the
 * export role (trusted by export.rds.amazonaws.com) may write under exports/ of this bucket only.
 */
export class SnapshotExport extends Construct {
  readonly schedule: SchedulerSchedule;
  readonly exportRole: IamRole;
  readonly schedulerRole: IamRole;
  constructor(scope: Construct, id: string, ctx: RegionContext, props: { clusterArn: string; bucketName: string; bucketArn: string }) {
    super(scope, id);
    const { def, plan, key } = ctx;
    const name = `${def.name}-${plan.region}`;
    this.exportRole = new IamRole(this, 'export-role', { name: `${name}-rds-export`, assumeRolePolicy: assumeRolePolicy('export.rds.amazonaws.com') });
    new IamRolePolicy(this, 'export-write', {
      role: this.exportRole.id,
      name: 'write-exports',
      policy: policyJson(
        { Effect: 'Allow', Action: ['s3:PutObject*', 's3:GetObject*', 's3:DeleteObject*'], Resource: `${props.bucketArn}/exports/*` },
        { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: props.bucketArn },
      ),
    });
    this.schedulerRole = new IamRole(this, 'scheduler-role', { name: `${name}-export-scheduler`, assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com') });
    new IamRolePolicy(this, 'scheduler-start', {
      role: this.schedulerRole.id,
      name: 'start-export',
      policy: policyJson(
        { Effect: 'Allow', Action: 'rds:StartExportTask', Resource: props.clusterArn },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: this.exportRole.arn, Condition: { StringEquals: { 'iam:PassedToService': 'rds.amazonaws.com' } } },
        // The export encrypts with the region's key through a grant the caller creates for RDS.
        { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: key.arn },
      ),
    });
    this.schedule = new SchedulerSchedule(this, 'schedule', {
      name: `${name}-export`,
      description: `${def.name}: export the Aurora cluster to s3://…/exports/ (Parquet), after the backup window and AWS Backup`,
      scheduleExpression: exportSchedule(def.backup.fullEveryHours, def.backup.window),
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: 'arn:aws:scheduler:::aws-sdk:rds:startExportTask',
        roleArn: this.schedulerRole.arn,
        input: JSON.stringify({
          // Unique per run: the scheduler substitutes its execution id.
          ExportTaskIdentifier: `${def.name}-<aws.scheduler.execution-id>`,
          SourceArn: props.clusterArn,
          S3BucketName: props.bucketName,
          S3Prefix: 'exports',
          IamRoleArn: this.exportRole.arn,
          KmsKeyId: key.arn,
        }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  }
}
