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
import { assumeRolePolicy, type RegionContext } from './common.js';

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
