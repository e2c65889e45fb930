// The backup agent's loop (one process per region, supervised): a binlog archive pass every
// backup.archiveEverySeconds; a full backup from a replica when the bucket has none or the newest is
// older than backup.fullEveryHours, then retention (backup.retentionDays); a verify (restore into a
// throwaway server, compared with a live snapshot) every backup.verifyEveryHours. Each action is one line
// in its log, and the latest of each kind is in run/backup-agent.json (run/backup-verify.json) for `tier status`.
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { seqOf } from './binlog-text.js';
import { expiredFulls, fullDataKey, fullManifestKey, type FullManifest, type SegmentMeta } from './catalog.js';
import { archiveEnd, archiveOnce, listSegments, type ArchiverState } from './archiver.js';
import { purgeArchivedBinlogs } from './binlog-purge.js';
import { takeFullBackup } from './full.js';
import { listFulls } from './restore.js';
import { readVerify, verifyDue, verifyLatest } from './verify.js';
import { readJson, readRegionRole, writeFileAtomic } from '../state.js';
import type { BackupEnv } from './env.js';

/** How often archived binlogs are purged from the nodes (a file is max_binlog_size, 64 MB, at most). */
export const BINLOG_PURGE_EVERY_MS = 60_000;

export interface AgentStatus {
  lastArchive: { at: string; to: string; transactions: number; lastCommitAt: string } | null;
  lastFull: { id: string; gtid: string; at: string; bytes: number; seconds: number } | null;
  lastError: { at: string; message: string } | null;
  /** The oldest full backup in the bucket: the verify schedule starts from it until a first verify ran. */
  oldestFullAt?: string | null;
}

export const agentStatusFile = (env: Pick<BackupEnv, 'paths'>) => `${env.paths.run}/backup-agent.json`;
export const readAgentStatus = (env: Pick<BackupEnv, 'paths'>) => readJson<AgentStatus>(agentStatusFile(env));

/** Deletes full backups past retention (never the newest) and the binlog segments no kept backup needs. */
export async function applyRetention(env: BackupEnv, fulls: FullManifest[], segments: SegmentMeta[], now = Date.now()): Promise<string | null> {
  const expired = expiredFulls(fulls, env.definition.backup.retentionDays, now);
  if (expired.length === 0) return null;
  const kept = fulls.filter((f) => !expired.includes(f));
  const oldestSeq = Math.min(...kept.map((f) => seqOf(f.gtid)));
  const oldSegments = segments.filter((s) => seqOf(s.to) <= oldestSeq);
  const keys = [...expired.flatMap((f) => [fullManifestKey(f.id), fullDataKey(f.id)]), ...oldSegments.flatMap((s) => [s.object.key, s.object.key.replace(/\.sql\.zst\.enc$/, '.json')])];
  for (const Key of keys) await env.store.client.send(new DeleteObjectCommand({ Bucket: env.store.bucket, Key }));
  return `retention: deleted ${expired.length} full backup(s) older than ${env.definition.backup.retentionDays} days and ${oldSegments.length} binlog segment(s) before seq ${oldestSeq}`;
}

export async function runAgent(env: BackupEnv, stop: () => boolean): Promise<void> {
  const status: AgentStatus = readAgentStatus(env) ?? { lastArchive: null, lastFull: null, lastError: null };
  const save = () => writeFileAtomic(agentStatusFile(env), JSON.stringify(status, null, 2) + '\n');
  const fail = (what: string, e: unknown) => {
    const message = `${what}: ${(e as Error).message}`;
    if (status.lastError?.message !== message) env.log(message);
    status.lastError = { at: new Date().toISOString(), message };
    save();
  };
  const state: ArchiverState = { last: await archiveEnd(env), server: null, file: null };
  env.log(`backup agent: archive continues after GTID ${state.last || '(start of the binlog)'} in s3://${env.store.bucket}, every ${env.definition.backup.archiveEverySeconds} s`);
  let fullRunning = false;
  let verifyRunning = false;
  let nextFullCheck = 0;
  let nextPurge = 0;
  while (!stop()) {
    const t0 = Date.now();
    try {
      const seg = await archiveOnce(env, state);
      if (seg) {
        status.lastArchive = { at: seg.archivedAt, to: seg.to, transactions: seg.transactions, lastCommitAt: seg.lastAt };
        save();
      }
    } catch (e) {
      fail('binlog archive', e);
    }
    // Binlog expiry, once a minute: what the archive holds (state.last) may leave the nodes' disks.
    if (state.last !== '' && Date.now() >= nextPurge) {
      nextPurge = Date.now() + BINLOG_PURGE_EVERY_MS;
      try {
        for (const line of await purgeArchivedBinlogs(env.definition, env.paths, seqOf(state.last))) env.log(line);
      } catch (e) {
        fail('binlog expiry', e);
      }
    }
    if (!fullRunning && Date.now() >= nextFullCheck) {
      nextFullCheck = Date.now() + 60_000;
      fullRunning = true;
      void (async () => {
        try {
          const fulls = await listFulls(env);
          const newest = fulls.at(-1);
          status.oldestFullAt = fulls[0]?.finishedAt ?? null;
          const due = !newest || Date.now() - Date.parse(newest.finishedAt) >= env.definition.backup.fullEveryHours * 3_600_000;
          if (!due) return;
          const m = await takeFullBackup(env, env.log);
          status.lastFull = { id: m.id, gtid: m.gtid, at: m.finishedAt, bytes: m.object.bytes, seconds: (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 };
          status.oldestFullAt ??= m.finishedAt;
          save();
          const said = await applyRetention(env, [...fulls, m], await listSegments(env));
          if (said) env.log(said);
        } catch (e) {
          fail('full backup', e);
        } finally {
          fullRunning = false;
        }
      })();
    }
    // Never beside a full backup (both read a replica end to end); a manual verify may overlap (own work folder).
    // A standby region archives nothing (its primary is read-only): nothing to verify there.
    if (!fullRunning && !verifyRunning && readRegionRole(env.paths)?.role !== 'standby' && verifyDue(readVerify(env), status.oldestFullAt ?? null, env.definition.backup.verifyEveryHours)) {
      verifyRunning = true;
      void verifyLatest(env, 'schedule')
        .then((r) => env.log(`scheduled verify ${r.ok ? 'OK' : 'FAILED'} in ${r.seconds.toFixed(1)} s: ${r.sentence}`))
        .finally(() => { verifyRunning = false; });
    }
    const wait = env.definition.backup.archiveEverySeconds * 1000 - (Date.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
