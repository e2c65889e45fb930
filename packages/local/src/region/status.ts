// `tier status`: every process with tier, zone, pid, port and health, plus the endpoints.
import type { ResolvedDefinition } from '@conduit/definition';
import { endpoints } from '../commands/processes.js';
import { probe } from '../runner/probe.js';
import { isAlive } from '../runner/spawn.js';
import { isOurProcess } from './down.js';
import { readRegion } from '../state.js';
import type { DbTopology, ProcessRecord } from '../types.js';

const tierOrder = ['edge', 'front', 'api', 'lb', 'db', 'cache', 'sentinel', 'monitoring'];

export type Health = 'healthy' | 'unhealthy' | 'down';

export interface ProcessStatus {
  name: string;
  tier: string;
  zone: string | null;
  pid: number | null;
  port: number;
  health: Health;
  state: ProcessRecord['state'];
  restarts: number;
  /** db: primary/replica (from db-topology.json); others null. */
  role: string | null;
  logFile: string;
}

export interface RegionStatus {
  name: string;
  stateDir: string;
  running: boolean;
  supervisor: { pid: number; running: boolean } | null;
  healthy: boolean;
  endpoints: ReturnType<typeof endpoints>;
  topology: DbTopology | null;
  processes: ProcessStatus[];
  tiers: Record<string, { total: number; healthy: number; zones: string[] }>;
}

export async function regionStatus(d: ResolvedDefinition, stateDir: string): Promise<RegionStatus> {
  const snap = readRegion(stateDir);
  const processes = await Promise.all(snap.processes.map(async (p): Promise<ProcessStatus> => {
    const alive = p.pid !== null && isAlive(p.pid) && isOurProcess(p);
    const health: Health = !alive ? 'down' : (await probe(p.probe, p.port, 1_000)) ? 'healthy' : 'unhealthy';
    const role = p.tier === 'db' && snap.topology ? (snap.topology.primary === p.name ? 'primary' : 'replica') : null;
    return { name: p.name, tier: p.tier, zone: p.zone, pid: alive ? p.pid : null, port: p.port, health, state: p.state, restarts: p.restarts, role, logFile: p.logFile };
  }));
  processes.sort((a, b) => tierOrder.indexOf(a.tier) - tierOrder.indexOf(b.tier) || a.name.localeCompare(b.name, 'en', { numeric: true }));
  const tiers: RegionStatus['tiers'] = {};
  for (const p of processes) {
    const t = (tiers[p.tier] ??= { total: 0, healthy: 0, zones: [] });
    t.total += 1;
    if (p.health === 'healthy') t.healthy += 1;
    if (p.zone && !t.zones.includes(p.zone)) t.zones.push(p.zone);
  }
  const running = snap.supervisor?.running ?? false;
  return {
    name: d.name,
    stateDir: snap.stateDir,
    running,
    supervisor: snap.supervisor,
    healthy: running && processes.length > 0 && processes.every((p) => p.health === 'healthy'),
    endpoints: endpoints(d),
    topology: snap.topology,
    processes,
    tiers,
  };
}

export function formatStatusTable(s: RegionStatus): string {
  if (!s.running && s.processes.every((p) => p.pid === null)) {
    return `region "${s.name}" is not running (state: ${s.stateDir}); start it with \`tier up\``;
  }
  const head = ['NAME', 'TIER', 'ZONE', 'PID', 'PORT', 'HEALTH', 'ROLE', 'RESTARTS'];
  const rows = s.processes.map((p) => [p.name, p.tier, p.zone ?? '-', p.pid === null ? '-' : String(p.pid), String(p.port), p.health, p.role ?? '', String(p.restarts)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `region "${s.name}": ${s.healthy ? 'healthy' : 'NOT healthy'} (supervisor pid ${s.supervisor?.pid ?? '-'}${s.running ? '' : ', not running'})`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}

/** One line per tier, e.g. "api         3/3 healthy  zones a, b, c". */
export function formatTierLines(s: RegionStatus): string[] {
  return Object.entries(s.tiers)
    .sort(([a], [b]) => tierOrder.indexOf(a) - tierOrder.indexOf(b))
    .map(([tier, t]) => {
      const extra = tier === 'db' && s.topology ? `  primary ${s.topology.primary}, replicas ${s.topology.replicas.join(', ') || 'none'}` : '';
      return `${tier.padEnd(10)} ${t.healthy}/${t.total} healthy${t.zones.length ? `  zones ${t.zones.join(', ')}` : ''}${extra}`;
    });
}
