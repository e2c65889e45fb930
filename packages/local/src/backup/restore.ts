// Restore: a full backup plus archived binlogs into a dataset built off to the side (nothing of the
// region is touched until the whole dataset is ready), then installed into every node's data dir.
//
//   fetch    GET → SHA-256 check → AES-GCM frames → zstd -d → mbstream -x   into <state>/run/restore/data
//   prepare  mariadb-backup --prepare
//   replay   a throwaway mariadbd on the dataset (socket only, no binlog), the binlog segments' SQL
//            after the backup's position up to the target, then a clean shutdown
//   install  (restoreRegion) every node's data dir replaced by a copy; the bring-up sets the GTID state
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { dbDataDir } from '../paths.js';
import { queryNode, runOnce, spawnProcess, spawnStreaming, stopProcessGroup, waitUntil, withNode } from '../runner/index.js';
import type { Connection } from 'mysql2/promise';
import { DecryptStream } from './crypto.js';
import { seqOf, sliceTransactions, splitTransactions } from './binlog-text.js';
import { planRestore, type FullManifest, type RestorePlan, type RestoreTarget, type SegmentMeta, type StoredObject } from './catalog.js';
import { listSegments } from './archiver.js';
import { getBuffer, getStream, listObjects } from './store.js';
import type { BackupEnv } from './env.js';

export async function listFulls(env: BackupEnv): Promise<FullManifest[]> {
  const keys = (await listObjects(env.store, 'full/')).map((o) => o.Key!).filter((k) => k.endsWith('/manifest.json'));
  const fulls = await Promise.all(keys.map(async (k) => JSON.parse((await getBuffer(env.store, k)).toString('utf8')) as FullManifest));
  return fulls.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}

/** Chooses the backup and segments, and checks every object before anything is read: present, same size, same key. */
export async function preflight(env: BackupEnv, target: RestoreTarget): Promise<RestorePlan> {
  const plan = planRestore(await listFulls(env), await listSegments(env), target);
  const objects: Array<{ o: StoredObject; keyId: string }> = [{ o: plan.full.object, keyId: plan.full.keyId }, ...plan.segments.map((s) => ({ o: s.object, keyId: s.keyId }))];
  for (const { o, keyId } of objects) {
    if (keyId !== env.keyId) throw new Error(`${o.key}: encrypted with key ${keyId}, the key store has key ${env.keyId} (${env.backups.keys}): wrong key`);
    const head = await env.store.client.send(new HeadObjectCommand({ Bucket: env.store.bucket, Key: o.key })).catch((e: Error) => {
      throw new Error(`${o.key}: missing from s3://${env.store.bucket} (${e.name})`);
    });
    if (head.ContentLength !== o.bytes) throw new Error(`${o.key}: ${head.ContentLength} bytes stored, its manifest says ${o.bytes}: corrupted or truncated`);
  }
  return plan;
}

/** The stages an object's bytes go through: a SHA-256 check (fails at the end of the stream on a mismatch), then the decryption. */
function openVerified(env: BackupEnv, o: StoredObject): [Transform, DecryptStream] {
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _e, cb) { hash.update(chunk); cb(null, chunk); },
    flush(cb) {
      const got = hash.digest('hex');
      cb(got === o.sha256 ? null : new Error(`${o.key}: SHA-256 ${got.slice(0, 16)}… does not match its manifest's ${o.sha256.slice(0, 16)}…: corrupted`));
    },
  });
  return [check, new DecryptStream(env.key, o.key)];
}

const pct = (n: number, of: number) => `${(n / 1048576).toFixed(0)} of ${(of / 1048576).toFixed(0)} MB (${of > 0 ? Math.round((100 * n) / of) : 100} %)`;

async function readSegmentSql(env: BackupEnv, s: SegmentMeta): Promise<string> {
  const zstd = spawnStreaming('zstd', ['-q', '-d', '-c'], { stdin: true });
  const chunks: Buffer[] = [];
  zstd.stdout.on('data', (b: Buffer) => chunks.push(b));
  await Promise.all([pipeline(await getStream(env.store, s.object.key), ...openVerified(env, s.object), zstd.stdin!), zstd.done]).catch((e) => { zstd.kill(); throw e; });
  return Buffer.concat(chunks).toString('utf8');
}

export interface Dataset {
  dir: string;
  /** The GTID position the dataset is at (the last replayed transaction, or the backup's). */
  gtid: string;
  /** Commit time of the last replayed transaction (null: none replayed). */
  lastCommitAt: string | null;
  replayed: number;
  timings: { fetchSeconds: number; prepareSeconds: number; replaySeconds: number; checkSeconds: number };
  /** Row counts and content checksums of the application tables (tableSums), read on the throwaway server. */
  tables: TableSum[];
}

export interface TableSum {
  table: string;
  rows: number;
  checksum: string;
}

const secondsSince = (t: number) => (Date.now() - t) / 1000;

/** Throwaway servers running now (process group ids): a process that must exit at once kills them first. */
const throwaways = new Set<number>();
export function killThrowaways(): void {
  for (const pid of throwaways) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

/** A throwaway server's cnf: socket only, no binlog, no replication, small. */
function throwawayCnf(dir: string, run: string): string {
  return [
    '# Throwaway MariaDB of a restore or verify: replays binlogs into the restored dataset, then stops.',
    '[mariadbd]', `datadir=${dir}`, `socket=${join(run, 'mariadb.sock')}`, `pid-file=${join(run, 'mariadb.pid')}`, `tmpdir=${run}`,
    'skip-networking', 'skip-slave-start', 'user=root', 'server_id=4000000', 'innodb_buffer_pool_size=128M',
    'innodb_flush_log_at_trx_commit=2', 'performance_schema=OFF', '',
  ].join('\n');
}

/**
 * Builds the dataset in workDir (wiped first): fetch, prepare, replay, checksums, clean shutdown. Any
 * failure (checksum, key, missing object) stops here; the region was not touched.
 */
export async function buildDataset(env: BackupEnv, plan: RestorePlan, workDir: string, progress: (l: string) => void): Promise<Dataset> {
  rmSync(workDir, { recursive: true, force: true });
  const dir = join(workDir, 'data');
  const run = join(workDir, 'run');
  mkdirSync(dir, { recursive: true });
  mkdirSync(run, { recursive: true });

  const t0 = Date.now();
  const zstd = spawnStreaming('zstd', ['-q', '-d', '-c'], { stdin: true });
  const mbstream = spawnStreaming('mbstream', ['-x', '-C', dir], { stdin: true });
  // A large backup takes a while to come down: one line every 10 s says how far it is.
  let got = 0;
  const counter = new PassThrough();
  counter.on('data', (b: Buffer) => (got += b.length));
  const ticker = setInterval(() => progress(`fetching ${plan.full.object.key}: ${pct(got, plan.full.object.bytes)} (${secondsSince(t0).toFixed(0)} s)`), 10_000);
  await Promise.all([
    pipeline(await getStream(env.store, plan.full.object.key), counter, ...openVerified(env, plan.full.object), zstd.stdin!),
    pipeline(zstd.stdout, mbstream.stdin!),
    zstd.done, mbstream.done,
  ]).catch((e) => { zstd.kill(); mbstream.kill(); throw e; }).finally(() => clearInterval(ticker));
  const fetchSeconds = secondsSince(t0);
  progress(`fetched, checked (SHA-256, GCM tags), decrypted and unpacked ${plan.full.object.key} in ${fetchSeconds.toFixed(1)} s`);

  const t1 = Date.now();
  await runOnce('mariadb-backup', ['--prepare', `--target-dir=${dir}`], { timeoutMs: 600_000 });
  const prepareSeconds = secondsSince(t1);
  progress(`prepared (InnoDB redo applied) in ${prepareSeconds.toFixed(1)} s`);

  const t2 = Date.now();
  const cnf = join(run, 'my.cnf');
  writeFileSync(cnf, throwawayCnf(dir, run));
  const socket = join(run, 'mariadb.sock');
  const child = spawnProcess({
    name: 'restore', tier: 'backup', zone: null, region: env.definition.regionName, host: env.definition.address, port: 0, command: 'mariadbd', args: [`--defaults-file=${cnf}`], env: {}, cwd: workDir,
    logFile: join(run, 'mariadbd.log'), restartPolicy: 'never', probe: { kind: 'tcp' }, copyBeforeStart: [], stopGraceMs: 60_000, stage: 0,
  });
  throwaways.add(child.pid!);
  let gtid = plan.full.gtid;
  let lastCommitAt: string | null = null;
  let replayed = 0;
  try {
    await waitUntil('the throwaway MariaDB on the restored dataset', async () => (await queryNode(socket, 'SELECT 1', 1_000).catch(() => null)) !== null, 60_000, 100);
    for (const s of plan.segments) {
      const cut = sliceTransactions(splitTransactions(await readSegmentSql(env, s)), { afterSeq: seqOf(gtid), untilMs: plan.untilMs, untilSeq: plan.untilSeq });
      if (cut.kept.length > 0) {
        const client = spawnStreaming('mariadb', [`--socket=${socket}`, '--user=root', '--binary-mode'], { stdin: true });
        await Promise.all([pipeline(Readable.from([cut.sql]), client.stdin as Writable), client.done]).catch((e: Error) => {
          throw new Error(`replaying ${s.object.key} failed: ${e.message}`);
        });
        const last = cut.kept.at(-1)!;
        gtid = `${last.gtid.domain}-${last.gtid.server}-${last.gtid.seq}`;
        lastCommitAt = new Date(last.at).toISOString();
        replayed += cut.kept.length;
      }
      if (cut.stopped) break;
    }
    const replaySeconds = secondsSince(t2);
    progress(`replayed ${replayed} transaction(s) from ${plan.segments.length} binlog segment(s) in ${replaySeconds.toFixed(1)} s: dataset at GTID ${gtid}${lastCommitAt ? ` (last commit ${lastCommitAt})` : ''}`);
    const t3 = Date.now();
    const tables = await tableSums(socket, env.definition.database.databaseName);
    const checkSeconds = secondsSince(t3);
    progress(`counted and checksummed ${tables.length} tables (${tables.reduce((n, t) => n + t.rows, 0)} rows) in ${checkSeconds.toFixed(1)} s`);
    return { dir, gtid, lastCommitAt, replayed, timings: { fetchSeconds, prepareSeconds, replaySeconds, checkSeconds }, tables };
  } finally {
    // A clean shutdown: the dataset is then consistent on disk (no crash recovery in the region's nodes).
    await queryNode(socket, 'SHUTDOWN', 60_000).catch(() => undefined);
    await stopProcessGroup(child.pid!, 60_000);
    throwaways.delete(child.pid!);
  }
}

/**
 * Row count and a content checksum of every base table of the application database, by name: SUM of the
 * CRC32 of each row's columns (NULLs marked), order-independent and plain SQL, so it can run inside a
 * consistent snapshot of a live server (CHECKSUM TABLE cannot) and compare with a restored copy.
 */
export async function tableSums(socket: string, database: string, conn?: Connection): Promise<TableSum[]> {
  const q = async <T>(c: Connection, sql: string) => (await c.query(sql))[0] as T[];
  const run = async (c: Connection) => {
    // TIMESTAMP columns print in the session's zone: the same on both sides.
    await c.query("SET time_zone = '+00:00'");
    const lit = `'${database.replace(/'/g, "''")}'`;
    const cols = await q<{ t: string; c: string }>(c, `SELECT c.table_name AS t, c.column_name AS c FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE c.table_schema = ${lit} AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`);
    const byTable = new Map<string, string[]>();
    for (const { t, c: col } of cols) byTable.set(t, [...(byTable.get(t) ?? []), `\`${col}\``]);
    const out: TableSum[] = [];
    for (const [t, names] of byTable) {
      const row = `CONCAT_WS('#', ${names.join(', ')}, CONCAT(${names.map((n) => `ISNULL(${n})`).join(', ')}))`;
      const [r] = await q<{ n: string; s: string | null }>(c, `SELECT COUNT(*) AS n, SUM(CRC32(${row})) AS s FROM \`${database}\`.\`${t}\``);
      out.push({ table: t, rows: Number(r?.n ?? 0), checksum: String(r?.s ?? '0') });
    }
    return out;
  };
  return conn ? run(conn) : withNode(socket, run, 600_000);
}

/** Replaces every node's data dir with a copy of the dataset; the old one is kept as <node>.pre-restore. */
export function installDataset(env: BackupEnv, ds: Dataset, progress: (l: string) => void): void {
  for (const node of env.definition.dbNodes) {
    const t0 = Date.now();
    const target = dbDataDir(env.paths, node);
    const aside = `${target}.pre-restore`;
    if (existsSync(target)) {
      rmSync(aside, { recursive: true, force: true });
      renameSync(target, aside);
    }
    cpSync(ds.dir, target, { recursive: true });
    progress(`copied the dataset into ${node.name}'s data dir in ${secondsSince(t0).toFixed(1)} s`);
  }
  writeFileSync(env.paths.restoreMarker, JSON.stringify({ gtid: ds.gtid, at: new Date().toISOString() }) + '\n');
  // The restored data already holds whatever was seeded: the bring-up must not seed again.
  mkdirSync(env.paths.data, { recursive: true });
  writeFileSync(env.paths.seeded, `${new Date().toISOString()} restored from a backup (GTID ${ds.gtid})\n`);
  progress(`installed the dataset into ${env.definition.dbNodes.length} node data dir(s) (previous ones kept as <node>.pre-restore)`);
}
