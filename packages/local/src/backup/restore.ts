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
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { dbDataDir } from '../paths.js';
import { queryNode, runOnce, spawnProcess, spawnStreaming, stopProcessGroup, waitUntil } from '../runner/index.js';
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

/** The object's bytes through a SHA-256 check (fails at the end of the stream on a mismatch) and the decryption. */
function openVerified(env: BackupEnv, o: StoredObject, body: Readable): Readable {
  const hash = createHash('sha256');
  const check = new PassThrough({
    transform(chunk: Buffer, _e, cb) { hash.update(chunk); cb(null, chunk); },
    flush(cb) {
      const got = hash.digest('hex');
      cb(got === o.sha256 ? null : new Error(`${o.key}: SHA-256 ${got.slice(0, 16)}… does not match its manifest's ${o.sha256.slice(0, 16)}…: corrupted`));
    },
  });
  const out = new PassThrough();
  pipeline(body, check, new DecryptStream(env.key, o.key), out).catch((e: Error) => out.destroy(e));
  return out;
}

async function readSegmentSql(env: BackupEnv, s: SegmentMeta): Promise<string> {
  const zstd = spawnStreaming('zstd', ['-q', '-d', '-c'], { stdin: true });
  const chunks: Buffer[] = [];
  zstd.stdout.on('data', (b: Buffer) => chunks.push(b));
  await Promise.all([pipeline(openVerified(env, s.object, await getStream(env.store, s.object.key)), zstd.stdin!), zstd.done]).catch((e) => { zstd.kill(); throw e; });
  return Buffer.concat(chunks).toString('utf8');
}

export interface Dataset {
  dir: string;
  /** The GTID position the dataset is at (the last replayed transaction, or the backup's). */
  gtid: string;
  /** Commit time of the last replayed transaction (null: none replayed). */
  lastCommitAt: string | null;
  replayed: number;
  timings: { fetchSeconds: number; prepareSeconds: number; replaySeconds: number };
  /** Row counts and CHECKSUM TABLE of the application tables, read on the throwaway server. */
  tables: TableSum[];
}

export interface TableSum {
  table: string;
  rows: number;
  checksum: string;
}

const secondsSince = (t: number) => (Date.now() - t) / 1000;

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
  await Promise.all([
    pipeline(openVerified(env, plan.full.object, await getStream(env.store, plan.full.object.key)), zstd.stdin!),
    pipeline(zstd.stdout, mbstream.stdin!),
    zstd.done, mbstream.done,
  ]).catch((e) => { zstd.kill(); mbstream.kill(); throw e; });
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
    const tables = await tableSums(socket, env.definition.database.databaseName);
    return { dir, gtid, lastCommitAt, replayed, timings: { fetchSeconds, prepareSeconds, replaySeconds }, tables };
  } finally {
    // A clean shutdown: the dataset is then consistent on disk (no crash recovery in the region's nodes).
    await queryNode(socket, 'SHUTDOWN', 60_000).catch(() => undefined);
    await stopProcessGroup(child.pid!, 60_000);
  }
}

/** Row counts and CHECKSUM TABLE of every base table of the application database, by name. */
export async function tableSums(socket: string, database: string): Promise<TableSum[]> {
  const tables = await queryNode<{ t: string }>(socket, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '${database.replace(/'/g, "''")}' AND table_type = 'BASE TABLE' ORDER BY table_name`, 30_000);
  const out: TableSum[] = [];
  for (const { t } of tables) {
    const q = `\`${database}\`.\`${t}\``;
    const [c] = await queryNode<{ n: string }>(socket, `SELECT COUNT(*) AS n FROM ${q}`, 300_000);
    const [s] = await queryNode<{ Checksum: string | null }>(socket, `CHECKSUM TABLE ${q}`, 300_000);
    out.push({ table: t, rows: Number(c?.n ?? 0), checksum: String(s?.Checksum ?? '') });
  }
  return out;
}

/** Replaces every node's data dir with a copy of the dataset; the old one is kept as <node>.pre-restore. */
export function installDataset(env: BackupEnv, ds: Dataset, progress: (l: string) => void): void {
  for (const node of env.definition.dbNodes) {
    const target = dbDataDir(env.paths, node);
    const aside = `${target}.pre-restore`;
    if (existsSync(target)) {
      rmSync(aside, { recursive: true, force: true });
      renameSync(target, aside);
    }
    cpSync(ds.dir, target, { recursive: true });
  }
  writeFileSync(env.paths.restoreMarker, JSON.stringify({ gtid: ds.gtid, at: new Date().toISOString() }) + '\n');
  // The restored data already holds whatever was seeded: the bring-up must not seed again.
  mkdirSync(env.paths.data, { recursive: true });
  writeFileSync(env.paths.seeded, `${new Date().toISOString()} restored from a backup (GTID ${ds.gtid})\n`);
  progress(`installed the dataset into ${env.definition.dbNodes.length} node data dir(s) (previous ones kept as <node>.pre-restore)`);
}
