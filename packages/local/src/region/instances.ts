// Adding and removing an instance of a running region's front or API tier, live, the way an Auto
// Scaling group does behind an ALB: start, wait healthy, then put it in the pool; to remove, drain
// it, take it out of the pool, then stop it. On failure the new instance is stopped again.
import type { ResolvedDefinition } from '@conduit/definition';
import { statePaths } from '../paths.js';
import { haproxyCommand, haproxyServers, probe, supervisorRequest, waitUntil } from '../runner/index.js';
import { readRegion } from '../state.js';
import { RegionError } from './errors.js';

type ScalableTier = 'api' | 'front';
const backendOf = { api: 'be_api', front: 'be_front' } as const;

/** Per-server counters from HAProxy's `show stat` (CSV). */
export async function haproxyServerStats(stateDir: string, backend: string): Promise<Array<{ name: string; status: string; current: number; total: number }>> {
  const csv = await haproxyCommand(statePaths(stateDir).haproxySocket, 'show stat');
  return csv.split('\n').filter((l) => l.startsWith(`${backend},`)).map((l) => l.split(','))
    .filter((f) => f[1] !== 'BACKEND' && f[1] !== 'FRONTEND')
    .map((f) => ({ name: f[1]!, status: f[17]!, current: Number(f[4]), total: Number(f[7]) }));
}

/** Starts the first free slot of a tier (up to its max), waits until healthy, then enables it in HAProxy. */
export async function addInstance(d: ResolvedDefinition, stateDir: string, tier: ScalableTier): Promise<string> {
  const running = new Set(readRegion(stateDir).processes.filter((p) => p.tier === tier && p.pid !== null).map((p) => p.name));
  const slot = d[`${tier}Slots`].find((s) => !running.has(s.name));
  if (!slot) throw new RegionError(`${tier} already runs ${running.size} instances, its max (${tier}.instances.max)`);
  const backend = backendOf[tier];
  const sock = statePaths(stateDir).haproxySocket;
  await supervisorRequest(stateDir, { op: 'start', name: slot.name });
  try {
    const path = tier === 'api' ? d.api.healthCheck.path : d.front.healthCheck.path;
    await waitUntil(`${slot.name} healthy`, () => probe({ kind: 'http', path }, slot.port, 1_000), 60_000, 100);
    await haproxyCommand(sock, `set server ${backend}/${slot.name} state ready`);
    await waitUntil(`HAProxy sees ${slot.name} up`, async () => (await haproxyServers(sock, backend)).some((s) => s.name === slot.name && s.up), 30_000, 100);
  } catch (e) {
    await haproxyCommand(sock, `set server ${backend}/${slot.name} state maint`).catch(() => undefined);
    await supervisorRequest(stateDir, { op: 'stop', name: slot.name }).catch(() => undefined);
    await supervisorRequest(stateDir, { op: 'forget', name: slot.name }).catch(() => undefined);
    throw e;
  }
  return slot.name;
}

/** Drains an instance (no new requests; in-flight ones finish, up to drainMs), takes it out of HAProxy, stops it. */
export async function removeInstance(d: ResolvedDefinition, stateDir: string, name: string, drainMs = d.api.drainSeconds * 1000): Promise<void> {
  const rec = readRegion(stateDir).processes.find((p) => p.name === name);
  if (!rec || (rec.tier !== 'api' && rec.tier !== 'front')) throw new RegionError(`no API or front instance named ${name}`);
  const backend = backendOf[rec.tier as ScalableTier];
  const sock = statePaths(stateDir).haproxySocket;
  await haproxyCommand(sock, `set server ${backend}/${name} state drain`);
  await waitUntil(`${name} drained`, async () => ((await haproxyServerStats(stateDir, backend)).find((s) => s.name === name)?.current ?? 0) === 0, drainMs, 100)
    .catch(() => undefined); // past the drain time, in-flight requests are cut, as an ALB does
  await haproxyCommand(sock, `set server ${backend}/${name} state maint`);
  await supervisorRequest(stateDir, { op: 'stop', name });
  await supervisorRequest(stateDir, { op: 'forget', name });
}
