// The region's state files: secrets, DB topology, the process table. Small JSON files, written
// atomically (temp file + rename) so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { statePaths, type StatePaths } from './paths.js';
import { isAlive, commandLineOf } from './runner/spawn.js';
import type { DbTopology, ProcessesFile, ProcessRecord, RegionSecrets } from './types.js';

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
  const saved = readJson<RegionSecrets>(paths.secrets);
  if (saved) return saved;
  const s: RegionSecrets = {
    jwtSecret: secret(48),
    appUser: 'app',
    appPassword: secret(18),
    replUser: 'repl',
    replPassword: secret(18),
    exporterUser: 'exporter',
    exporterPassword: secret(18),
  };
  writeFileAtomic(paths.secrets, JSON.stringify(s, null, 2) + '\n', 0o600);
  return s;
}

export const readTopology = (paths: StatePaths) => readJson<DbTopology>(paths.topology);
export const writeTopology = (paths: StatePaths, t: DbTopology) => writeFileAtomic(paths.topology, JSON.stringify(t, null, 2) + '\n');

/** What drills and `tier status` read: the supervised processes and the DB topology. */
export interface RegionSnapshot {
  stateDir: string;
  /** The supervisor daemon, when its pid file names a live supervisor. */
  supervisor: { pid: number; running: boolean } | null;
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
    processes: file?.processes ?? [],
    topology: readTopology(paths),
  };
}

/** The supervisor's pid and whether it is alive (and really our supervisor, not a recycled pid). */
export function supervisorState(paths: StatePaths): { pid: number; running: boolean } | null {
  let pid: number;
  try {
    pid = Number(readFileSync(paths.supervisorPid, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const running = isAlive(pid) && (commandLineOf(pid) ?? '').includes('supervisor');
  return { pid, running };
}

export const stateExists = (stateDir: string) => existsSync(stateDir);
