// Binlog expiry: a node's binary logs are purged once the archive holds them, never before. Each binlog
// file starts with a Gtid_list event, the GTID position before its first transaction: every transaction of
// the files before file k is at or below file k's start. So `PURGE BINARY LOGS TO k` loses nothing the
// archive lacks when k's start is at or below the archive's end, and nothing a reachable replica still has
// to read when it is at or below every reachable node's position too (MariaDB also refuses to purge a file
// a connected replica is reading). Chosen over binlog_expire_logs_seconds, which deletes by age whether or
// not the archive has them (an archive stalled for that long would lose its point-in-time restores).
import type { ResolvedDefinition } from '@conduit/definition';
import { dbSocket, type StatePaths } from '../paths.js';
import { queryNode } from '../runner/index.js';

export interface BinlogFile {
  name: string;
  /** Highest seq of the file's Gtid_list (the position before its first transaction); 0 for an empty list. */
  startSeq: number;
}

/** The file to purge up to (exclusive), or null when no older file is entirely at or below `safeSeq`. */
export function purgeTarget(files: BinlogFile[], safeSeq: number): string | null {
  let target: string | null = null;
  for (let k = 1; k < files.length; k++) if (files[k]!.startSeq <= safeSeq) target = files[k]!.name;
  return target;
}

/** The highest seq in a Gtid_list event's text (`[0-1-40,0-2-57]`; `[]`: 0). */
export const gtidListSeq = (info: string) => Math.max(0, ...[...info.matchAll(/\d+-\d+-(\d+)/g)].map((m) => Number(m[1])));

/**
 * Purges, on every reachable node, the binlog files the archive has (up to `archivedSeq`) and every reachable
 * node has applied. Returns one sentence per node that purged something.
 */
export async function purgeArchivedBinlogs(d: ResolvedDefinition, paths: Pick<StatePaths, 'run'>, archivedSeq: number): Promise<string[]> {
  const reachable: { name: string; socket: string; seq: number }[] = [];
  for (const n of d.dbNodes) {
    const socket = dbSocket(paths, n);
    try {
      const [row] = await queryNode<{ pos: string }>(socket, 'SELECT @@gtid_current_pos AS pos', 3_000);
      reachable.push({ name: n.name, socket, seq: gtidListSeq(String(row?.pos ?? '')) });
    } catch {
      // down: it will be re-cloned or catch up from a primary that still has what it lacks (not purged: see below)
    }
  }
  const safeSeq = Math.min(archivedSeq, ...reachable.map((n) => n.seq));
  const said: string[] = [];
  for (const n of reachable) {
    const logs = await queryNode<{ Log_name: string }>(n.socket, 'SHOW BINARY LOGS', 3_000);
    const files: BinlogFile[] = [];
    for (const l of logs) {
      const events = await queryNode<{ Event_type: string; Info: string }>(n.socket, `SHOW BINLOG EVENTS IN '${l.Log_name.replace(/'/g, '')}' LIMIT 3`, 3_000);
      files.push({ name: l.Log_name, startSeq: gtidListSeq(events.find((e) => e.Event_type === 'Gtid_list')?.Info ?? '[]') });
    }
    const to = purgeTarget(files, safeSeq);
    if (to === null) continue;
    await queryNode(n.socket, `PURGE BINARY LOGS TO '${to.replace(/'/g, '')}'`, 10_000);
    said.push(`binlog expiry: ${n.name} purged the binlogs before ${to} (archived and applied up to seq ${safeSeq})`);
  }
  return said;
}
