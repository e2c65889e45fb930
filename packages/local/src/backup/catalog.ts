// What the backup bucket holds and how a restore is chosen from it. Pure: object keys, manifest shapes,
// and the plan (which full backup, which binlog segments, where to stop), with one-line reasons when
// no complete chain exists. The same layout on S3 (AWS) and on the local s3rver.
//
//   full/<id>/data.mbs.zst.enc      mariadb-backup --stream=mbstream | zstd | AES-256-GCM frames
//   full/<id>/manifest.json         written last: a full backup without it is incomplete and ignored
//   binlog/<from>-<to>.sql.zst.enc  the transactions with GTID seq in (from, to], as mariadb-binlog text
//   binlog/<from>-<to>.json         its range, times, size and checksum
import { seqOf } from './binlog-text.js';

export interface StoredObject {
  key: string;
  /** Bytes stored (encrypted). */
  bytes: number;
  /** SHA-256 of the stored bytes. */
  sha256: string;
}

export interface FullManifest {
  kind: 'full';
  id: string;
  /** The definition's name and region, and the release the region ran. */
  definition: string;
  region: string;
  release: string | null;
  /** The replica it was taken from. */
  source: string;
  /** The GTID position the backup is consistent at (mariadb-backup's "GTID of the last change"). */
  gtid: string;
  startedAt: string;
  finishedAt: string;
  /** mbstream bytes before compression and encryption. */
  streamBytes: number;
  object: StoredObject;
  /** Id of the key that encrypted it (SHA-256 prefix): a wrong key is named before anything is read. */
  keyId: string;
  format: 'mbstream+zstd+aes-256-gcm-frames/1';
}

export interface SegmentMeta {
  kind: 'binlog';
  /** GTID positions: the segment holds the transactions after `from` up to and including `to`. */
  from: string;
  to: string;
  /** Commit times (UTC ISO) of its first and last transaction. */
  firstAt: string;
  lastAt: string;
  transactions: number;
  /** The node it was read from (the primary at the time). */
  source: string;
  archivedAt: string;
  object: StoredObject;
  keyId: string;
}

const pad = (n: number) => String(n).padStart(16, '0');
export const fullDataKey = (id: string) => `full/${id}/data.mbs.zst.enc`;
export const fullManifestKey = (id: string) => `full/${id}/manifest.json`;
export const segmentBase = (fromSeq: number, toSeq: number) => `binlog/${pad(fromSeq)}-${pad(toSeq)}`;
/** A backup id that sorts by time and is a valid object key: 2026-11-29T18-31-36-123Z. */
export const backupId = (at: Date) => at.toISOString().replace(/[:.]/g, '-');

/** Where to restore to. */
export type RestoreTarget = { kind: 'latest' } | { kind: 'time'; ms: number } | { kind: 'gtid'; gtid: string };

export function parseTarget(s: string): RestoreTarget {
  if (s === 'latest') return { kind: 'latest' };
  if (/^\d+-\d+-\d+$/.test(s)) return { kind: 'gtid', gtid: s };
  const ms = Date.parse(s);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(s)) throw new Error(`--to "${s}" is not "latest", an ISO time (2026-11-29T18:31:36Z) or a GTID (0-1-120)`);
  return { kind: 'time', ms: Math.floor(ms / 1000) * 1000 };
}

export interface RestorePlan {
  full: FullManifest;
  segments: SegmentMeta[];
  /** Replay bounds: after the full backup's seq, up to the time or seq of the target. */
  afterSeq: number;
  untilMs?: number;
  untilSeq?: number;
  /** One sentence: what will be restored. */
  summary: string;
}

export class PlanError extends Error {}

/**
 * The newest full backup at or before the target, then the unbroken chain of binlog segments from its
 * position. A gap in the chain stops the plan with the keys on both sides of it.
 */
export function planRestore(fulls: FullManifest[], segments: SegmentMeta[], target: RestoreTarget): RestorePlan {
  const byTime = [...fulls].sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  const eligible = byTime.filter((f) =>
    target.kind === 'time' ? Date.parse(f.finishedAt) <= target.ms
      : target.kind === 'gtid' ? seqOf(f.gtid) <= seqOf(target.gtid)
        : true);
  const full = eligible.at(-1);
  if (!full) {
    throw new PlanError(fulls.length === 0
      ? 'no full backup in the bucket: take one with `tier backup now`'
      : `no full backup finished at or before the target (oldest: ${byTime[0]!.id}, GTID ${byTime[0]!.gtid})`);
  }
  const afterSeq = seqOf(full.gtid);
  const untilMs = target.kind === 'time' ? target.ms : undefined;
  const untilSeq = target.kind === 'gtid' ? seqOf(target.gtid) : undefined;
  const sorted = [...segments].sort((a, b) => seqOf(a.from) - seqOf(b.from) || seqOf(a.to) - seqOf(b.to));
  const chain: SegmentMeta[] = [];
  let at = afterSeq;
  for (const s of sorted) {
    const from = seqOf(s.from);
    const to = seqOf(s.to);
    if (to <= at) continue; // entirely inside the full backup or the chain so far
    if (untilSeq !== undefined && at >= untilSeq) break;
    if (untilMs !== undefined && Date.parse(s.firstAt) > untilMs) break;
    if (from > at) {
      throw new PlanError(`binlog archive has a gap: nothing holds the transactions after seq ${at} (next: ${s.object.key} starts after seq ${from})`);
    }
    chain.push(s);
    at = to;
  }
  if (untilSeq !== undefined && at < untilSeq) {
    throw new PlanError(`GTID ${target.kind === 'gtid' ? target.gtid : ''} is not archived yet: the archive ends at seq ${at}`);
  }
  const last = chain.at(-1);
  const upTo = target.kind === 'time' ? `to ${new Date(target.ms).toISOString()}` : target.kind === 'gtid' ? `to GTID ${target.gtid}` : 'to the latest archived transaction';
  const summary = `full backup ${full.id} (GTID ${full.gtid}, from ${full.source}) + ${chain.length} binlog segment(s)${last ? ` up to seq ${seqOf(last.to)} (last commit ${last.lastAt})` : ''}, replayed ${upTo}`;
  return { full, segments: chain, afterSeq, untilMs, untilSeq, summary };
}

/** Full backups past retention (backup.retentionDays), always keeping the newest one. */
export function expiredFulls(fulls: FullManifest[], retentionDays: number, now: number): FullManifest[] {
  const sorted = [...fulls].sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  const cutoff = now - retentionDays * 86_400_000;
  return sorted.slice(0, -1).filter((f) => Date.parse(f.finishedAt) < cutoff);
}

/**
 * Whether GTID `g` is in the history of a server whose @@gtid_binlog_state is `state` ("0-1-98,0-2-101": the
 * last seq per domain and server). With gtid_strict_mode a server's seq numbers only grow in a domain, so
 * d-s-n is there when the state holds d-s-m with m >= n.
 */
export function inHistory(g: string, state: string): boolean {
  const [d, sv, n] = g.split('-').map(Number);
  return state.split(',').map((x) => x.trim().split('-').map(Number)).some(([d2, s2, m]) => d2 === d && s2 === sv && (m ?? -1) >= (n ?? 0));
}

/**
 * After a failover, the archive may end with transactions the new primary never had: written to the old
 * primary's binlog (and archived from it) but acknowledged by no replica, so never acknowledged to a client
 * either (semi-sync AFTER_SYNC), and gone with the old primary. Those segments must never be replayed: the
 * archive keeps the segments whose end the new primary holds (`state`: its @@gtid_binlog_state), the rest
 * is set aside, and the archive continues after the last kept end, from the new primary's binlog. Pure.
 */
export function forkArchive(segments: SegmentMeta[], state: string): { keep: SegmentMeta[]; discard: SegmentMeta[]; last: string } {
  const sorted = [...segments].sort((a, b) => seqOfGtid(a.to) - seqOfGtid(b.to));
  const cut = sorted.findIndex((s) => !inHistory(s.to, state));
  if (cut === -1) return { keep: sorted, discard: [], last: sorted.at(-1)?.to ?? '' };
  return { keep: sorted.slice(0, cut), discard: sorted.slice(cut), last: sorted[cut - 1]?.to ?? '' };
}

const seqOfGtid = (g: string) => Number(g.split('-')[2] ?? 0);
