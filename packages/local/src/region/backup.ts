// What `tier backup now|list|verify` and `tier restore` call. Backups need the region's object store;
// a restore also works on a region that is down or was destroyed (it starts the object store alone),
// which is the disaster-recovery path: rebuild from the definition, restore the latest backup.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import { backupPaths, dbDataDir, statePaths } from '../paths.js';
import { objectStoreSpec } from '../specs/processes.js';
import { spawnProcess, stopProcessGroup, tcpProbe, waitUntil } from '../runner/index.js';
import { supervisorState } from '../state.js';
import { backupEnv, type BackupEnv } from '../backup/env.js';
import { takeFullBackup } from '../backup/full.js';
import { moveObjects } from '../backup/store.js';
import { listSegments } from '../backup/archiver.js';
import { buildDataset, installDataset, listFulls, preflight } from '../backup/restore.js';
import { readVerify, verifyLatest as verifyBackup, type VerifyResult } from '../backup/verify.js';
import { seqOf } from '../backup/binlog-text.js';
import { backupId, parseTarget, type FullManifest, type SegmentMeta } from '../backup/catalog.js';
import { readAgentStatus, type AgentStatus } from '../backup/agent.js';
import { regionDown } from './down.js';
import { regionUp } from './up.js';
import { RegionError } from './errors.js';

export interface BackupOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  configFile: string;
  progress: (line: string) => void;
  /** Tests: another key than the key store's (a wrong key must be refused). */
  key?: Buffer;
}

const env = (o: BackupOptions) => backupEnv(o.definition, o.stateDir, o.configFile, o.progress, o.key);

/** Runs fn with the object store reachable: the region's, or one started for the call (region down or destroyed). */
async function withObjectStore<T>(o: BackupOptions, fn: (e: BackupEnv) => Promise<T>): Promise<T> {
  const e = env(o);
  const port = o.definition.local.ports.objectStore;
  const host = o.definition.address;
  if (await tcpProbe(port, 300, host)) return fn(e);
  mkdirSync(e.paths.logs, { recursive: true });
  const child = spawnProcess(objectStoreSpec({ definition: o.definition, paths: e.paths }, backupPaths(o.definition, o.configFile)));
  try {
    await waitUntil(`the object store on ${host}:${port}`, () => tcpProbe(port, 300, host), 15_000, 50);
    return await fn(e);
  } finally {
    await stopProcessGroup(child.pid!, 3_000);
  }
}

function requireRunning(o: BackupOptions): void {
  if (!supervisorState(statePaths(o.stateDir))?.running) throw new RegionError(`region "${o.definition.name}" is not running: start it with \`tier up\``);
}

export async function backupNow(o: BackupOptions): Promise<FullManifest> {
  requireRunning(o);
  return takeFullBackup(env(o), o.progress);
}

export interface BackupListing {
  bucket: string;
  fulls: FullManifest[];
  archive: { segments: number; from: string; to: string; lastCommitAt: string | null; transactions: number };
  agent: AgentStatus | null;
  lastVerify: VerifyResult | null;
}

export async function backupList(o: BackupOptions): Promise<BackupListing> {
  return withObjectStore(o, async (e) => {
    const [fulls, segments] = await Promise.all([listFulls(e), listSegments(e)]);
    return {
      bucket: e.store.bucket,
      fulls,
      archive: {
        segments: segments.length,
        from: segments[0]?.from ?? '',
        to: segments.at(-1)?.to ?? '',
        lastCommitAt: segments.at(-1)?.lastAt ?? null,
        transactions: segments.reduce((n, s) => n + s.transactions, 0),
      },
      agent: readAgentStatus(e),
      lastVerify: readVerify(e),
    };
  });
}

/**
 * Restores the latest full backup plus the archive into a throwaway server and compares every table with
 * a consistent snapshot of the live data at the same GTID (backup/verify.ts).
 */
export async function verifyLatest(o: BackupOptions): Promise<VerifyResult> {
  requireRunning(o);
  return verifyBackup(env(o), 'manual');
}

export interface RestoreReport {
  summary: string;
  gtid: string;
  lastCommitAt: string | null;
  replayed: number;
  rows: number;
  /**
   * Seconds per phase: fetch (download, check, decrypt, unpack), prepare, replay, check (row counts and
   * checksums of the dataset), install (copy into the nodes), up (region start) = rebuild (configs, every
   * infrastructure process, the database nodes replicating) + appStart (migrations, API instances healthy
   * behind the load balancers).
   */
  timings: { fetch: number; prepare: number; replay: number; check: number; stop: number; install: number; up: number; rebuild: number; appStart: number; total: number };
}

/**
 * Moves what lies after the restored position aside (abandoned/<id>/…): the restored region writes new
 * transactions after that position, and the archive must stay one line of history.
 */
async function abandonAfter(e: BackupEnv, seq: number, id: string): Promise<number> {
  const segments: SegmentMeta[] = (await listSegments(e)).filter((s) => seqOf(s.to) > seq);
  const fulls = (await listFulls(e)).filter((f) => seqOf(f.gtid) > seq);
  const keys = [
    ...segments.flatMap((s) => [s.object.key, s.object.key.replace(/\.sql\.zst\.enc$/, '.json')]),
    ...fulls.flatMap((f) => [`full/${f.id}/manifest.json`, f.object.key]),
  ];
  await moveObjects(e.store, keys, `abandoned/${id}/`);
  return segments.length + fulls.length;
}

export async function restoreRegion(o: BackupOptions & { to: string; force: boolean }): Promise<RestoreReport> {
  const t0 = Date.now();
  let target;
  try {
    target = parseTarget(o.to);
  } catch (err) {
    throw new RegionError((err as Error).message);
  }
  const paths = statePaths(o.stateDir);
  const running = supervisorState(paths)?.running ?? false;
  const withData = o.definition.dbNodes.filter((n) => existsSync(join(dbDataDir(paths, n), 'mysql'))).map((n) => n.name);
  if ((running || withData.length > 0) && !o.force) {
    throw new RegionError(running
      ? `region "${o.definition.name}" is running with a live primary: a restore replaces its data (kept aside as data/<node>.pre-restore); pass --force to restore over it`
      : `region "${o.definition.name}" has data (${withData.join(', ')}): a restore replaces it (kept aside as data/<node>.pre-restore); pass --force to restore over it`);
  }
  // 1. Everything that can fail before the region is touched: the plan, every object's presence, size
  //    and key, then the dataset (checksums and GCM tags checked while it is unpacked).
  const work = join(paths.run, 'restore');
  const { plan, ds } = await withObjectStore(o, async (e) => {
    const plan = await preflight(e, target).catch((err: Error) => { throw new RegionError(`restore refused, nothing was changed: ${err.message}`); });
    o.progress(`restore: ${plan.summary}`);
    const ds = await buildDataset(e, plan, work, o.progress).catch((err: Error) => {
      rmSync(work, { recursive: true, force: true });
      throw new RegionError(`restore stopped before touching the region: ${err.message}`);
    });
    return { plan, ds };
  });
  // 2. The region stops, the nodes get the dataset, the archive's abandoned tail is moved aside.
  const t1 = Date.now();
  if (running) await regionDown(o.stateDir, o.progress);
  const stopped = (Date.now() - t1) / 1000;
  const t2 = Date.now();
  await withObjectStore(o, async (e) => {
    const moved = await abandonAfter(e, seqOf(ds.gtid), backupId(new Date()));
    if (moved > 0) o.progress(`moved ${moved} backup object(s) after GTID ${ds.gtid} to abandoned/ (the restored history continues from ${ds.gtid})`);
    installDataset(e, ds, o.progress);
  });
  rmSync(work, { recursive: true, force: true });
  const installed = (Date.now() - t2) / 1000;
  // 3. The region comes up on the restored data (the bring-up sets each node's GTID state from it).
  const t3 = Date.now();
  // The bring-up says when replication is set up (the rebuilt data tier); the app's start follows it.
  let dataTierAt = 0;
  await regionUp({
    definition: o.definition, stateDir: o.stateDir, configFile: o.configFile,
    progress: (l) => { if (!dataTierAt && l.startsWith('replication: ')) dataTierAt = Date.now(); o.progress(l); },
  });
  const upAt = Date.now();
  const up = (upAt - t3) / 1000;
  const rebuild = ((dataTierAt || upAt) - t3) / 1000;
  return {
    summary: plan.summary,
    gtid: ds.gtid,
    lastCommitAt: ds.lastCommitAt,
    replayed: ds.replayed,
    rows: ds.tables.reduce((n, t) => n + t.rows, 0),
    timings: {
      fetch: ds.timings.fetchSeconds, prepare: ds.timings.prepareSeconds, replay: ds.timings.replaySeconds, check: ds.timings.checkSeconds,
      stop: stopped, install: installed, up, rebuild, appStart: up - rebuild, total: (Date.now() - t0) / 1000,
    },
  };
}
