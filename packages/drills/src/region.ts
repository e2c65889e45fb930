// The drill's view of a running local region: its processes (from processes.json), the supervisor's
// control socket (to restart what a drill killed), Sentinel, the primary's semi-sync status, and the
// logs (controller journal, supervisor log) the report quotes. Faults are signals sent by pid.
import { existsSync, readFileSync } from 'node:fs';
import type { ResolvedDefinition } from '@conduit/definition';
import { dbSocket, endpoints, isAlive, isOurProcess, queryNode, readRegion, readSecrets, readSupervisorLine, sentinelMasterPort, statePaths, supervisorRequest, supervisorState, type ProcessRecord } from '@conduit/local';
import type { DrillEvent } from './report.js';

export interface RegionHandle {
  definition: ResolvedDefinition;
  stateDir: string;
  /** The site (Varnish edge), http://127.0.0.1:PORT/ */
  edge: string;
}

export function regionHandle(definition: ResolvedDefinition, stateDir: string): RegionHandle {
  return { definition, stateDir, edge: endpoints(definition).edge };
}

export const processes = (r: RegionHandle): ProcessRecord[] => readRegion(r.stateDir).processes;
export const topology = (r: RegionHandle) => readRegion(r.stateDir).topology;

export function processNamed(r: RegionHandle, name: string): ProcessRecord {
  const p = processes(r).find((x) => x.name === name);
  if (!p) throw new Error(`no process named ${name} in ${statePaths(r.stateDir).processes}`);
  return p;
}

/** Sends a signal to one process of the region, by the pid the supervisor recorded. Returns the pid. */
export function signalProcess(r: RegionHandle, name: string, signal: NodeJS.Signals): number {
  const p = processNamed(r, name);
  if (p.pid === null || !isAlive(p.pid)) throw new Error(`${name} is not running (pid ${p.pid ?? 'none'}): restore the region before the drill`);
  if (!isOurProcess(p)) throw new Error(`pid ${p.pid} no longer runs ${name} (${p.command[0]}): the process table is stale; not signalling it`);
  process.kill(p.pid, signal);
  return p.pid;
}

/** Asks the supervisor to start a process again (db and cache nodes are never restarted on their own). */
export async function startProcess(r: RegionHandle, name: string): Promise<void> {
  await supervisorRequest(r.stateDir, { op: 'start', name });
}

/** Graceful stop (SIGTERM, then the supervisor's grace period), as AWS maintenance does. */
export async function stopProcessGracefully(r: RegionHandle, name: string): Promise<void> {
  await supervisorRequest(r.stateDir, { op: 'stop', name });
}

/** SIGKILLs the supervisor (the watchdog must start a new one). Returns its pid. */
export function killSupervisor(r: RegionHandle): number {
  const s = supervisorState(statePaths(r.stateDir));
  if (!s?.running) throw new Error('no supervisor running: restore the region before the drill');
  process.kill(s.pid, 'SIGKILL');
  return s.pid;
}

/**
 * Resolves with the new supervisor's pid once one other than `oldPid` runs and answers on its control
 * socket (`list`): a supervisor that can act again, not just a pid.
 */
export async function supervisorBack(r: RegionHandle, oldPid: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = supervisorState(statePaths(r.stateDir));
    if (s?.running && s.pid !== oldPid) {
      const ok = await supervisorRequest(r.stateDir, { op: 'list' }, 500).then(() => true, () => false);
      if (ok) return s.pid;
    }
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no supervisor answering within ${timeoutMs} ms after killing pid ${oldPid}`);
}

/** name → pid of every running process, to compare before and after a fault. */
export const pidsOf = (r: RegionHandle): Record<string, number> =>
  Object.fromEntries(processes(r).filter((p) => p.pid !== null).map((p) => [p.name, p.pid!]));

/** A process is running again under the supervisor with a pid other than `oldPid`. */
export const replacedSince = (r: RegionHandle, name: string, oldPid: number) => {
  const p = processes(r).find((x) => x.name === name);
  return !!p && p.pid !== null && p.pid !== oldPid && p.state === 'running' && isAlive(p.pid) ? p : null;
};

/** The cache primary's node name as the Sentinels see it (the first Sentinel that answers). */
export async function cachePrimary(r: RegionHandle): Promise<string | null> {
  const { sentinelPassword } = readSecrets(statePaths(r.stateDir));
  for (const s of r.definition.sentinelNodes) {
    const port = await sentinelMasterPort(s.port, r.definition.cacheMasterName, 500, r.definition.address, sentinelPassword);
    if (port !== null) return r.definition.cacheNodes.find((n) => n.port === port)?.name ?? `127.0.0.1:${port}`;
  }
  return null;
}

/** Rpl_semi_sync_master_status of the current primary: true = semi-sync, false = fell back to async, null = unreachable. */
export async function semiSyncStatus(r: RegionHandle): Promise<{ primary: string; on: boolean | null; clients: number }> {
  const primary = topology(r)?.primary ?? r.definition.dbNodes[0]!.name;
  try {
    const rows = await queryNode<{ Variable_name: string; Value: string }>(
      dbSocket(statePaths(r.stateDir), { name: primary }),
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')",
    );
    const v = Object.fromEntries(rows.map((x) => [x.Variable_name, x.Value]));
    return { primary, on: v.Rpl_semi_sync_master_status === 'ON', clients: Number(v.Rpl_semi_sync_master_clients ?? 0) };
  } catch {
    return { primary, on: null, clients: 0 };
  }
}

/** SHOW SLAVE STATUS of one node, null when it is not a replica or not reachable. */
export async function replicaStatus(r: RegionHandle, node: string): Promise<Record<string, unknown> | null> {
  try {
    const rows = await queryNode(dbSocket(statePaths(r.stateDir), { name: node }), 'SHOW SLAVE STATUS');
    return rows[0] ?? null;
  } catch {
    return null;
  }
}

/** Decisions of the DB failover controller in [from, to], from its journal. */
export function controllerEvents(r: RegionHandle, from: number, to: number, faultAt: number): DrillEvent[] {
  const file = statePaths(r.stateDir).failoverJournal;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => { try { return JSON.parse(l) as { at: string; sentence: string }; } catch { return null; } })
    .filter((e): e is { at: string; sentence: string } => e !== null)
    .map((e) => ({ at: Date.parse(e.at), sentence: e.sentence }))
    .filter((e) => e.at >= from && e.at <= to)
    .map((e) => ({ at: e.at, offsetMs: e.at - faultAt, source: 'db-failover', sentence: e.sentence }));
}

/** Supervisor log lines in [from, to] about exits and replacements (controller lines come from the journal). */
export function supervisorEvents(r: RegionHandle, from: number, to: number, faultAt: number): DrillEvent[] {
  const file = statePaths(r.stateDir).supervisorLog;
  if (!existsSync(file)) return [];
  const out: DrillEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const l = readSupervisorLine(line);
    if (!l) continue;
    const { at, msg } = l;
    if (at < from || at > to || msg.startsWith('db-failover:')) continue;
    if (!/replac|exited|killed|not restarted|stopped|started|liveness|adopt|interrupted|autoscaler: scaled/i.test(msg)) continue;
    out.push({ at, offsetMs: at - faultAt, source: 'supervisor', sentence: msg });
  }
  return out;
}
