// The drill's view of a running local region: its processes (from processes.json), the supervisor's
// control socket (to restart what a drill killed), Sentinel, the primary's semi-sync status, and the
// logs (controller journal, supervisor log) the report quotes. Faults are signals sent by pid.
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import { dbSocket, endpoints, queryNode, readRegion, statePaths, supervisorRequest, type ProcessRecord } from '@conduit/local';
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

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * True when `pid` still runs the recorded command (a recycled pid must never be signalled): its command line
 * names the program, and for node programs also the script.
 */
export function runsRecordedCommand(p: Pick<ProcessRecord, 'pid' | 'command'>): boolean {
  if (p.pid === null || p.command.length === 0) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return false;
  }
  const program = basename(p.command[0]!);
  if (!cmdline.includes(program)) return false;
  return program !== 'node' || cmdline.includes(p.command[p.command.length - 1]!);
}

/** Sends a signal to one process of the region, by the pid the supervisor recorded. Returns the pid. */
export function signalProcess(r: RegionHandle, name: string, signal: NodeJS.Signals): number {
  const p = processNamed(r, name);
  if (p.pid === null || !alive(p.pid)) throw new Error(`${name} is not running (pid ${p.pid ?? 'none'}): restore the region before the drill`);
  if (!runsRecordedCommand(p)) throw new Error(`pid ${p.pid} no longer runs ${name} (${p.command[0]}): the process table is stale; not signalling it`);
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

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last})` : ''}`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

/** A process is running again under the supervisor with a pid other than `oldPid`. */
export const replacedSince = (r: RegionHandle, name: string, oldPid: number) => {
  const p = processes(r).find((x) => x.name === name);
  return !!p && p.pid !== null && p.pid !== oldPid && p.state === 'running' && alive(p.pid) ? p : null;
};

/** Minimal RESP client: one command, one answer (array of bulk strings or a simple value). */
export function redisCommand(port: number, args: string[], timeoutMs = 1000): Promise<string[] | string | null> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`redis 127.0.0.1:${port}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    s.on('connect', () => s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const lines = buf.split('\r\n');
      const head = lines[0] ?? '';
      const done = (v: string[] | string | null) => { clearTimeout(t); s.destroy(); resolve(v); };
      if (head.startsWith('+') || head.startsWith(':')) return done(head.slice(1));
      if (head.startsWith('-')) { clearTimeout(t); s.destroy(); return reject(new Error(head.slice(1))); }
      if (head === '*-1' || head === '$-1') return done(null);
      if (head.startsWith('*')) {
        const n = Number(head.slice(1));
        const items: string[] = [];
        for (let i = 1; i + 1 < lines.length && items.length < n; i += 2) items.push(lines[i + 1]!);
        if (items.length === n) done(items);
      }
    });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

/** The cache primary's node name as the Sentinels see it (the first Sentinel that answers). */
export async function cachePrimary(r: RegionHandle): Promise<string | null> {
  for (const s of r.definition.sentinelNodes) {
    try {
      const a = await redisCommand(s.port, ['SENTINEL', 'get-master-addr-by-name', r.definition.cacheMasterName], 500);
      if (Array.isArray(a)) return r.definition.cacheNodes.find((n) => n.port === Number(a[1]))?.name ?? `127.0.0.1:${a[1]}`;
    } catch {
      /* next sentinel */
    }
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
  const file = join(statePaths(r.stateDir).logs, 'db-failover.jsonl');
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
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]!);
    if (at < from || at > to || m[2]!.startsWith('db-failover:')) continue;
    if (!/replac|exited|killed|not restarted|stopped|started|liveness/i.test(m[2]!)) continue;
    out.push({ at, offsetMs: at - faultAt, source: 'supervisor', sentence: m[2]! });
  }
  return out;
}
