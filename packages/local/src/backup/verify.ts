// `tier backup verify` and the agent's scheduled verify (backup.verifyEveryHours): a backup that was never
// restored is not a backup. A replica (the primary only when none replicates) opens a consistent snapshot and
// says which GTID it is at (its binlog position in the snapshot → BINLOG_GTID_POS); the row count and content
// checksum of every table are read inside that snapshot; the latest full backup plus the archive is restored
// to exactly that GTID into a throwaway server and the same sums compared. Live writes do not disturb it:
// both sides are the same transaction boundary. The result (kept in run/backup-verify.json) is shown by
// `tier status` and `tier backup list`, and exported for the backup-verify alarm.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { dbSocket } from '../paths.js';
import { readTopology, writeFileAtomic } from '../state.js';
import { queryNode, waitUntil, withNode } from '../runner/index.js';
import { archiveEnd } from './archiver.js';
import { seqOf } from './binlog-text.js';
import { buildDataset, preflight, tableSums, type TableSum } from './restore.js';
import type { BackupEnv } from './env.js';
import { verifyFile, type VerifyResult } from './verify-state.js';

export { readVerify, verifyDue, verifyFile, verifyReference, type VerifyResult } from './verify-state.js';


/** The node to read the live side from: the first replica whose SQL thread runs, else the primary. */
async function snapshotSource(e: BackupEnv): Promise<{ name: string; socket: string }> {
  const topo = readTopology(e.paths);
  if (!topo) throw new Error(`${e.paths.topology} is missing: is the region up?`);
  for (const name of [...topo.replicas, topo.primary]) {
    const socket = dbSocket(e.paths, e.definition.dbNodes.find((n) => n.name === name)!);
    if (name === topo.primary) return { name, socket };
    const [st] = await queryNode<Record<string, string>>(socket, 'SHOW SLAVE STATUS', 2_000).catch(() => []);
    if (st?.Slave_SQL_Running === 'Yes') return { name, socket };
  }
  throw new Error('unreachable');
}

/** Row counts and checksums inside one consistent snapshot, and the GTID position of that snapshot. */
export async function liveSnapshot(socket: string, database: string): Promise<{ gtid: string; tables: TableSum[] }> {
  return withNode(socket, async (c) => {
    await c.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [status] = await c.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const v = new Map((status as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    const file = v.get('binlog_snapshot_file');
    const pos = v.get('binlog_snapshot_position');
    if (!file || !pos) throw new Error('the server reports no binlog snapshot position (is log_bin on?)');
    const [g] = await c.query('SELECT BINLOG_GTID_POS(?, ?) AS g', [file, Number(pos)]);
    const gtid = String((g as Array<{ g: string | null }>)[0]?.g ?? '');
    const tables = await tableSums(socket, database, c);
    await c.query('COMMIT');
    return { gtid, tables };
  }, 900_000);
}

export async function verifyLatest(e: BackupEnv, trigger: VerifyResult['trigger']): Promise<VerifyResult> {
  const t0 = Date.now();
  let backup = '';
  let gtid = '';
  let source = '';
  let result: VerifyResult;
  try {
    const src = await snapshotSource(e);
    source = src.name;
    const live = await liveSnapshot(src.socket, e.definition.database.databaseName);
    gtid = live.gtid;
    e.log(`verify: ${source}'s snapshot is at GTID ${gtid || '(empty)'}: ${live.tables.length} tables summed`);
    await waitUntil(`the binlog archive reaching GTID ${gtid}`, async () => seqOf(await archiveEnd(e)) >= seqOf(gtid), Math.max(15, 4 * e.definition.backup.archiveEverySeconds) * 1000, 250);
    const plan = await preflight(e, { kind: 'gtid', gtid });
    backup = plan.full.id;
    e.log(`verify: ${plan.summary}`);
    // One folder per trigger: a scheduled verify and an operator's may overlap.
    const work = join(e.paths.run, `verify-${trigger}`);
    const ds = await buildDataset(e, plan, work, e.log).finally(() => rmSync(work, { recursive: true, force: true }));
    const tables = ds.tables.map((t) => ({ ...t, live: live.tables.find((l) => l.table === t.table) ?? null }));
    const missing = live.tables.filter((l) => !ds.tables.some((t) => t.table === l.table)).map((l) => l.table);
    const differ = tables.filter((t) => !t.live || t.live.rows !== t.rows || t.live.checksum !== t.checksum).map((t) => t.table);
    const atGtid = ds.gtid === gtid || seqOf(ds.gtid) === seqOf(gtid);
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    const ok = atGtid && differ.length === 0 && missing.length === 0;
    const sentence = ok
      ? `backup ${plan.full.id} + ${plan.segments.length} binlog segment(s) restored to GTID ${ds.gtid}: ${tables.length} tables, ${rows} rows, every checksum equals ${source}'s at the same GTID`
      : !atGtid
        ? `restore of ${plan.full.id} reached GTID ${ds.gtid}, not ${source}'s ${gtid}: the archive lacks transactions`
        : `MISMATCH at GTID ${gtid} against ${source}: ${[...differ.map((t) => `${t} differs`), ...missing.map((t) => `${t} missing`)].join(', ')}`;
    result = { at: new Date().toISOString(), ok, sentence, backup, gtid: ds.gtid, source, trigger, tables, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    const why = (err as Error).message.split('\n')[0]!;
    result = { at: new Date().toISOString(), ok: false, sentence: `verify failed: ${why}`, backup, gtid, source, trigger, tables: [], seconds: (Date.now() - t0) / 1000 };
  }
  writeFileAtomic(verifyFile(e), JSON.stringify(result, null, 2) + '\n');
  return result;
}
