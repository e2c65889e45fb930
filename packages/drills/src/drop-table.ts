// The operator-error drill (`tier drill drop-table`): given a running region with backups, when a statement
// destroys a table at time T (a bad migration's DROP TABLE), then the latest full backup plus the archived
// binlogs are restored to T − 1 s into a new instance (a throwaway server beside the region, which keeps
// running untouched) and the table's rows are back: the same count and content checksum as just before the
// statement. The table is the drill's own (created in the application database, so it is in the backups
// like any other): the application's data is never harmed.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import {
  archiveEnd, backupEnv, buildDataset, dbSocket, listFulls, preflight, queryNode, readRegion, runSql, seqOf, statePaths, supervisorState, tableSums, waitUntil,
  type TableSum,
} from '@conduit/local';

export interface DropTableOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  configFile: string;
  /** Rows the drill writes into its table before dropping it. */
  rows?: number;
  log?: (line: string) => void;
}

export interface DropTableReport {
  scenario: 'drop-table';
  pass: boolean;
  startedAt: string;
  table: string;
  /** When the DROP TABLE was sent, and the restore target (T − 1 s). */
  droppedAt: string;
  target: string;
  before: TableSum;
  /** What the restored instance holds (null: the table is not there). */
  restored: TableSum | null;
  /** The table is gone from the live primary after the statement (the damage is real). */
  goneFromLive: boolean;
  restoreSeconds: number;
  plan: string;
  criteria: Array<{ name: string; expected: string; actual: string; pass: boolean }>;
}

export async function runDropTableDrill(o: DropTableOptions): Promise<DropTableReport> {
  const log = o.log ?? (() => undefined);
  const d = o.definition;
  const rows = o.rows ?? 5_000;
  const db = d.database.databaseName;
  const paths = statePaths(o.stateDir);
  if (!supervisorState(paths)?.running) throw new Error(`region "${d.name}" is not running: \`tier up\` first`);
  const env = backupEnv(d, o.stateDir, o.configFile, (l) => log(`  ${l}`));
  const startedAt = new Date().toISOString();
  const topo = readRegion(o.stateDir).topology!;
  const primary = d.dbNodes.find((n) => n.name === topo.primary)!;
  const socket = dbSocket(paths, primary);
  const table = `drill_drop_${Date.now().toString(36)}`;

  // Given: a full backup, and the drill's table with rows written in several transactions.
  log('drill drop-table: waiting for a full backup in the bucket');
  await waitUntil('a full backup in the bucket', async () => (await listFulls(env)).length > 0, 180_000, 1_000);
  // The restore target is whole seconds: it must fall after the newest full backup finished.
  const fullAgeMs = Date.now() - Date.parse((await listFulls(env)).at(-1)!.finishedAt);
  if (fullAgeMs < 1_000) await new Promise((r) => setTimeout(r, 1_000 - fullAgeMs));
  const q = `\`${db}\`.\`${table}\``;
  await runSql(socket, primary.name, [
    `CREATE TABLE ${q} (id INT PRIMARY KEY, author VARCHAR(64) NOT NULL, body TEXT NOT NULL, created_at DATETIME(3) NOT NULL) ENGINE=InnoDB`,
  ]);
  const batch = Math.ceil(rows / 5);
  for (let i = 0; i < rows; i += batch) {
    const n = Math.min(batch, rows - i);
    await runSql(socket, primary.name, [`INSERT INTO ${q} SELECT ${i} + seq, CONCAT('author-', seq MOD 97), TO_BASE64(RANDOM_BYTES(300)), NOW(3) FROM \`${db}\`.seq_1_to_${n}`]);
  }
  const before = (await tableSums(socket, db)).find((t) => t.table === table)!;
  log(`drill drop-table: ${table} holds ${before.rows} rows (checksum ${before.checksum})`);
  // Binlog events carry whole seconds: the last write lands in an earlier second than the statement.
  await new Promise((r) => setTimeout(r, 1_500));

  // When: the bad statement.
  const droppedAtMs = Date.now();
  await runSql(socket, primary.name, [`DROP TABLE ${q}`]);
  const goneFromLive = Number((await queryNode<{ n: string }>(socket, `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '${db}' AND table_name = '${table}'`))[0]?.n) === 0;
  const droppedAt = new Date(droppedAtMs).toISOString();
  log(`drill drop-table: DROP TABLE ${table} at ${droppedAt}`);

  // Then: the archive past the statement, and a restore to T − 1 s into a new instance.
  const head = String((await queryNode<{ p: string }>(socket, 'SELECT @@gtid_binlog_pos AS p'))[0]!.p);
  await waitUntil(`the binlog archive reaching ${head}`, async () => seqOf(await archiveEnd(env)) >= seqOf(head), Math.max(15, 4 * d.backup.archiveEverySeconds) * 1000, 250);
  const target = new Date(droppedAtMs - 1_000).toISOString();
  const t0 = Date.now();
  const plan = await preflight(env, { kind: 'time', ms: Math.floor((droppedAtMs - 1_000) / 1000) * 1000 });
  log(`drill drop-table: restoring to ${target} into a new instance: ${plan.summary}`);
  const work = join(paths.run, 'drill-drop-table');
  let restored: TableSum | null;
  try {
    const ds = await buildDataset(env, plan, work, env.log);
    restored = ds.tables.find((t) => t.table === table) ?? null;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const restoreSeconds = (Date.now() - t0) / 1000;
  const same = restored !== null && restored.rows === before.rows && restored.checksum === before.checksum;
  const criteria = [
    { name: 'the statement destroyed the table on the live primary', expected: 'gone', actual: goneFromLive ? 'gone' : 'still there', pass: goneFromLive },
    { name: `rows of ${table} in the instance restored to T − 1 s`, expected: `${before.rows}, checksum ${before.checksum}`, actual: restored ? `${restored.rows}, checksum ${restored.checksum}` : 'table missing', pass: same },
  ];
  return {
    scenario: 'drop-table', pass: criteria.every((c) => c.pass), startedAt, table, droppedAt, target, before, restored, goneFromLive,
    restoreSeconds, plan: plan.summary, criteria,
  };
}

export function formatDropTableReport(r: DropTableReport): string {
  return [
    `drill drop-table: ${r.pass ? 'PASS' : 'FAIL'}`,
    '  Given a running region with backups, when a statement drops a table at T, then the latest backup + archived binlogs',
    '  restored to T − 1 s into a new instance hold the table\'s rows as they were before the statement.',
    `  DROP TABLE ${r.table} at ${r.droppedAt}; restored to ${r.target} in ${r.restoreSeconds.toFixed(1)} s (${r.plan})`,
    ...r.criteria.map((c) => `  ${c.pass ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.actual} (expected ${c.expected})`),
  ].join('\n');
}
