// The region's state files: secrets, DB topology, the process table, lock files. Small JSON files,
// written atomically (temp file + rename) so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CACHE_ACCESS } from '@conduit/definition';
import { statePaths, type StatePaths } from './paths.js';
import { isAlive, commandLineOf } from './runner/process.js';
import type { DbTopology, ProcessesFile, ProcessRecord, RegionRole, RegionSecrets } from './types.js';

export function writeFileAtomic(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Secrets generated once per region and kept in <stateDir>/secrets.json (mode 600). */
export function loadOrCreateSecrets(paths: StatePaths): RegionSecrets {
  const saved = readJson<Partial<RegionSecrets>>(paths.secrets);
  if (saved?.adminUser && saved.adminPassword && saved.sentinelPassword) return saved as RegionSecrets;
  // A region created before a secret existed keeps the ones it has and gets the new ones.
  const s = {
    jwtSecret: secret(48),
    appUser: 'app',
    appPassword: secret(18),
    replUser: 'repl',
    replPassword: secret(18),
    exporterUser: 'exporter',
    exporterPassword: secret(18),
    adminUser: 'conduit_admin',
    adminPassword: secret(18),
    redisAdminPassword: secret(24),
    redisApiUser: CACHE_ACCESS.api.user,
    redisApiPassword: secret(24),
    redisReplicaPassword: secret(24),
    redisSentinelPassword: secret(24),
    redisExporterPassword: secret(24),
    sentinelPassword: secret(24),
    ...saved,
  } as RegionSecrets;
  writeFileAtomic(paths.secrets, JSON.stringify(s, null, 2) + '\n', 0o600);
  return s;
}

/** The secrets of a region that exists (the supervisor created them before anything started). */
export function readSecrets(paths: Pick<StatePaths, 'secrets'>): RegionSecrets {
  const s = readJson<RegionSecrets>(paths.secrets);
  if (!s) throw new Error(`${paths.secrets} is missing or unreadable: start the region with \`tier up\``);
  return s;
}

export function readTopology(paths: Pick<StatePaths, 'topology'>): DbTopology | null {
  const t = readJson<DbTopology>(paths.topology);
  return t && typeof t.primary === 'string' && Array.isArray(t.replicas) ? t : null;
}
export function readRegionRole(paths: Pick<StatePaths, 'regionRole'>): RegionRole | null {
  const r = readJson<RegionRole>(paths.regionRole);
  return r && (r.role === 'primary' || r.role === 'standby') ? r : null;
}
export const writeRegionRole = (paths: Pick<StatePaths, 'regionRole'>, r: RegionRole) => writeFileAtomic(paths.regionRole, JSON.stringify(r, null, 2) + '\n');

export const writeTopology = (paths: Pick<StatePaths, 'topology'>, t: DbTopology) => writeFileAtomic(paths.topology, JSON.stringify(t, null, 2) + '\n');

/** The DB tier's redundancy against the definition: full or not, since when, and what is missing. */
export interface RedundancyState {
  full: boolean;
  since: string;
  /** What is below the definition; "" when full. */
  shortfall: string;
}
export function readRedundancy(paths: Pick<StatePaths, 'dbRedundancy'>): RedundancyState | null {
  const r = readJson<RedundancyState>(paths.dbRedundancy);
  return r && typeof r.full === 'boolean' && typeof r.since === 'string' ? r : null;
}
export const writeRedundancy = (paths: Pick<StatePaths, 'dbRedundancy'>, r: RedundancyState) => writeFileAtomic(paths.dbRedundancy, JSON.stringify(r, null, 2) + '\n');

/** The primary's last observed semi-sync state: `async` when it committed without any replica's acknowledgement, since `since` (ms). */
export interface SemiSyncMemory {
  node: string;
  async: boolean;
  since: number;
}
export function readSemiSyncMemory(paths: Pick<StatePaths, 'dbSemiSync'>): SemiSyncMemory | null {
  const m = readJson<SemiSyncMemory>(paths.dbSemiSync);
  return m && typeof m.node === 'string' && typeof m.async === 'boolean' && typeof m.since === 'number' ? m : null;
}
export const writeSemiSyncMemory = (paths: Pick<StatePaths, 'dbSemiSync'>, m: SemiSyncMemory) => writeFileAtomic(paths.dbSemiSync, JSON.stringify(m, null, 2) + '\n');

/**
 * One holder at a time (a `tier up`, a drill): the lock file holds the holder's pid. A lock left by a
 * dead process is taken over. Returns the release function.
 */
export function takeLockFile(file: string, busy: (ownerPid: number) => Error): () => void {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch {
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw busy(owner);
      rmSync(file, { force: true }); // left by a holder that died
    }
  }
  throw new Error(`could not take the lock ${file}`);
}

/** What drills and `tier status` read: the supervised processes and the DB topology. */
export interface RegionSnapshot {
  stateDir: string;
  /** The supervisor daemon, when its pid file names a live supervisor. */
  supervisor: { pid: number; running: boolean } | null;
  /** The watchdog that restarts the supervisor, with the supervisor's restart count. */
  watchdog: WatchdogState | null;
  processes: ProcessRecord[];
  topology: DbTopology | null;
}

/** Reads a region's state folder (no probing): processes.json, the supervisor pid, db-topology.json. */
export function readRegion(stateDir: string): RegionSnapshot {
  const paths = statePaths(stateDir);
  const file = readJson<ProcessesFile>(paths.processes);
  return {
    stateDir: paths.root,
    supervisor: supervisorState(paths),
    watchdog: watchdogState(paths),
    processes: file?.processes ?? [],
    topology: readTopology(paths),
  };
}

/** The pid in a pid file and whether it is alive and its command line names `entry` (not a recycled pid). */
function pidFileState(file: string, entry: string): { pid: number; running: boolean } | null {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const running = isAlive(pid) && (commandLineOf(pid) ?? '').includes(entry);
  return { pid, running };
}

/** The supervisor's pid and whether it is alive (and really our supervisor, not a recycled pid). */
export const supervisorState = (paths: StatePaths) => pidFileState(paths.supervisorPid, 'supervisor/daemon');

/** What the watchdog says about itself and the supervisor it runs (run/watchdog.json). */
export interface WatchdogState {
  pid: number;
  running: boolean;
  supervisorPid: number | null;
  /** Supervisors started again after one died. */
  restarts: number;
  lastExit: string | null;
  lastRestartAt: string | null;
}

/** The watchdog (supervisor/watchdog.ts), null when its pid file is absent. */
export function watchdogState(paths: StatePaths): WatchdogState | null {
  const p = pidFileState(paths.watchdogPid, 'supervisor/watchdog');
  if (!p) return null;
  const file = readJson<Omit<WatchdogState, 'running'>>(paths.watchdogState);
  return { supervisorPid: null, restarts: 0, lastExit: null, lastRestartAt: null, ...file, pid: p.pid, running: p.running };
}

