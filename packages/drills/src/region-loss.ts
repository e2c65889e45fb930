// The region-loss drill. Given both regions running (the primary takes writes, the standby replicates) and
// open-model traffic that finds the site through the global DNS name (honouring its TTL, as a client does),
// when every process of the primary region is SIGKILLed, then the service is back through DNS within 15 s and
// every acknowledged write that was lost was acknowledged within the RPO window before the fault.
// Same load generator, write ledger and set checker as every other drill; the report adds the RTO split
// (detection, promotion, DNS flip, clients switched) and the RPO figures with the lost write ids.
import { readFileSync } from 'node:fs';
import type { ResolvedDefinition } from '@conduit/definition';
import {
  crossRegionStatus, dnsAnswer, dnsServers, isAlive, isOurProcess, localRegions, readRegion, readRegionRole, statePaths, supervisorState, waitUntil, watchdogState,
  type LocalRegion,
} from '@conduit/local';
import { followDns } from './dns.js';
import { criterion, restoreRegion, takeDrillLock } from './drill.js';
import { WriteLedger } from './ledger.js';
import { finalCheck, regionReportBody } from './region-roles.js';
import { runLoad } from './load.js';
import { regionHandle } from './region.js';
import type { Criterion, DrillEvent, DrillReport } from './report.js';
import { recoveryMs } from './stats.js';
import { conduitMix, prepareConduit, settleWrite } from './workload.js';

export interface RegionLossTiming {
  /** Traffic before the fault. */
  warmupMs: number;
  /** Traffic after the fault (the region stays lost: there is no heal). */
  afterFaultMs: number;
  ratePerSecond: number;
}

export const regionLossFullTiming: RegionLossTiming = { warmupMs: 8_000, afterFaultMs: 22_000, ratePerSecond: 40 };
export const regionLossShortTiming: RegionLossTiming = { warmupMs: 4_000, afterFaultMs: 15_000, ratePerSecond: 20 };

/** The issue's bars: service back through DNS within this, and lost writes only from this window before the fault. */
export const REGION_RTO_GOAL_MS = 15_000;
export const REGION_RPO_GOAL_MS = 1_000;

export interface RegionLossFigures {
  lostRegion: string;
  survivingRegion: string;
  /** Processes SIGKILLed (the watchdog and supervisor included). */
  killed: number;
  /** ms from the fault: the standby's first failed check, its decision to promote, the promotion done,
   *  the DNS server answering the survivor, the drill's client using it, the last failed request's end. */
  detectedMs: number | null;
  decidedMs: number | null;
  promotedMs: number | null;
  dnsFlipMs: number | null;
  clientSwitchedMs: number | null;
  serviceBackMs: number;
  /** Lost acknowledged writes: id and how long before the fault each was acknowledged (ms; negative = after). */
  lost: Array<{ id: string; ackedBeforeFaultMs: number }>;
  /** The largest of those: the RPO this run showed (0 when nothing was lost). */
  rpoWindowMs: number;
  lostInsideRpoWindow: number;
  lostOutsideRpoWindow: number;
  /** Cross-region position just before the fault. */
  lagBeforeSeconds: number | null;
  gtidDistanceBefore: number | null;
}

export type RegionLossReport = DrillReport & { regions: RegionLossFigures };

/** Every process of a region, SIGKILLed at once: the watchdog and supervisor first (nothing restarts), then each process group. */
export function killRegion(stateDir: string): { pids: number[]; names: string[] } {
  const paths = statePaths(stateDir);
  const pids: number[] = [];
  const names: string[] = [];
  for (const [name, s] of [['watchdog', watchdogState(paths)], ['supervisor', supervisorState(paths)]] as const) {
    if (s?.running && isAlive(s.pid)) {
      process.kill(s.pid, 'SIGKILL');
      pids.push(s.pid);
      names.push(name);
    }
  }
  for (const p of readRegion(stateDir).processes) {
    if (p.pid === null || !isOurProcess(p)) continue;
    // Each process leads its own group (Varnish's and nginx's children go with it).
    try { process.kill(-p.pid, 'SIGKILL'); } catch { try { process.kill(p.pid, 'SIGKILL'); } catch { continue; } }
    pids.push(p.pid);
    names.push(p.name);
  }
  return { pids, names };
}

interface JournalLine { at: string; kind: string; sentence: string }

function regionJournal(r: LocalRegion, since: number): JournalLine[] {
  try {
    return readFileSync(statePaths(r.stateDir).regionFailoverJournal, 'utf8').trim().split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as JournalLine).filter((l) => Date.parse(l.at) >= since);
  } catch {
    return [];
  }
}

export interface RegionLossOptions {
  timing?: RegionLossTiming;
  log?: (line: string) => void;
}

/** Runs the drill; the primary region stays lost afterwards (the standby is the writer region now). */
export async function runRegionLoss(d: ResolvedDefinition, stateDir: string, o: RegionLossOptions = {}): Promise<RegionLossReport> {
  const timing = o.timing ?? regionLossFullTiming;
  const log = o.log ?? (() => undefined);
  const regions = localRegions(d, stateDir);
  if (regions.length < 2) throw new Error('region-loss needs two regions: set regions.secondary (and local.runSecondary) in the definition');
  const [primary, standby] = regions as [LocalRegion, LocalRegion];
  const roles = regions.map((r) => readRegionRole(statePaths(r.stateDir))?.role);
  if (roles[0] !== 'primary' || roles[1] !== 'standby') {
    throw new Error(`region-loss starts from ${primary.definition.regionName} primary and ${standby.definition.regionName} standby; the roles are ${roles.map((r) => r ?? 'none').join(' / ')} (not started, or after an earlier region-loss): \`tier destroy\` then \`tier up\` to start over`);
  }
  const release = takeDrillLock(stateDir);
  try {
    return await drill(d, primary, standby, timing, log);
  } finally {
    release();
  }
}

async function drill(d: ResolvedDefinition, primary: LocalRegion, standby: LocalRegion, timing: RegionLossTiming, log: (line: string) => void): Promise<RegionLossReport> {
  // Given: the primary region whole, the standby caught up, DNS answering the primary.
  log(`drill region-loss: restoring ${primary.definition.regionName} to whole, waiting for ${standby.definition.regionName} to catch up`);
  await restoreRegion(regionHandle(primary.definition, primary.stateDir), log);
  await waitUntil('the standby region replicating and caught up', async () => {
    const x = await crossRegionStatus([primary, standby]);
    return x?.replicating && x.gtidDistance === 0;
  }, 30_000, 200);
  await waitUntil(`DNS answering ${d.regions.primary}`, async () => (await dnsAnswer(d)).region === d.regions.primary, 15_000, 200);
  const totalMs = timing.warmupMs + timing.afterFaultMs;
  const target = await prepareConduit(regionHandle(primary.definition, primary.stateDir).edge, Math.ceil((totalMs / 1000) * timing.ratePerSecond * 0.3) + 10, {
    peakWritesPerSecond: timing.ratePerSecond * 0.3, rateLimits: primary.definition.api.rateLimits, log,
  });
  const ledger = new WriteLedger();
  const client = await followDns(dnsServers(d), d.dnsName, d.local.ports.edge);
  const events: DrillEvent[] = [];
  let faultAt = 0;
  const event = (sentence: string, source = 'drill', at = Date.now()) => {
    events.push({ at, offsetMs: faultAt ? at - faultAt : 0, source, sentence });
    log(`  ${sentence}`);
  };

  // The DNS server's answer, asked every 100 ms (the client only asks when its TTL has passed). While no
  // region passes its health check PowerDNS answers either address at random: the flip is the first answer
  // from which on only the surviving region is answered.
  let dnsFlipAt: number | null = null;
  let lastAnswer: string | null = null;
  let watching = true;
  const dnsWatch = (async () => {
    while (watching) {
      const a = await dnsAnswer(d, 500);
      if (faultAt) {
        if (a.region !== d.regions.secondary) dnsFlipAt = null;
        else if (dnsFlipAt === null) dnsFlipAt = Date.now();
        const answer = a.addresses?.join(', ') ?? `no answer (${a.error})`;
        if (answer !== lastAnswer) event(`DNS answers ${answer}${a.region ? ` (${a.region})` : ''} for ${d.dnsName}`, 'dns');
        lastAnswer = answer;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const x0 = await crossRegionStatus([primary, standby]);
  log(`drill region-loss: ${timing.ratePerSecond} req/s for ${(totalMs / 1000).toFixed(0)} s to ${d.dnsName} (resolved through ${dnsServers(d).join(' or ')}, TTL honoured)`);
  const startedAt = Date.now();
  const load = runLoad({
    baseUrl: client.url(),
    baseUrlFor: client.url,
    ratePerSecond: timing.ratePerSecond,
    durationMs: totalMs,
    maxRequests: Math.ceil((totalMs / 1000) * timing.ratePerSecond) + 1,
    timeoutMs: 5000,
    next: conduitMix(target, ledger),
    onSample: (s) => settleWrite(ledger, s),
  });
  let killed = { pids: [] as number[], names: [] as string[] };
  let lagBefore: { lag: number | null; distance: number | null } = { lag: null, distance: null };
  let killedAt = 0;
  const script = (async () => {
    await new Promise((r) => setTimeout(r, timing.warmupMs - 300));
    const x = await crossRegionStatus([primary, standby]);
    lagBefore = { lag: x?.lagSeconds ?? null, distance: x?.gtidDistance ?? null };
    faultAt = Date.now();
    killed = killRegion(primary.stateDir);
    killedAt = Date.now();
    event(`SIGKILL every process of ${primary.definition.regionName} (${killed.names.length}: ${killed.names.join(', ')}) in ${killedAt - faultAt} ms`);
  })();
  const [result] = await Promise.all([load, script]);
  watching = false;
  await dnsWatch;
  client.stop();

  // Then: the final read goes to the surviving region.
  const check = await finalCheck(ledger, { ...target, baseUrl: regionHandle(standby.definition, standby.stateDir).edge }, log);
  const endedAt = Date.now();

  for (const j of regionJournal(standby, startedAt)) event(j.sentence, 'region-failover', Date.parse(j.at));
  for (const c of client.changes.filter((c) => c.at >= faultAt)) event(`the drill's client now sends to ${c.address} (TTL ${c.ttl} s)`, 'client', c.at);
  events.sort((a, b) => a.at - b.at);
  const firstOf = (kind: string) => {
    const j = regionJournal(standby, faultAt).find((l) => l.kind === kind);
    return j ? Date.parse(j.at) - faultAt : null;
  };
  // The client's last switch, when it ended on the surviving region (it may have been sent back and forth before).
  const lastChange = client.changes.at(-1);
  const clientSwitch = lastChange && lastChange.at >= faultAt && lastChange.address === standby.definition.address ? lastChange : undefined;
  const samples = result.samples;
  const serviceBackMs = recoveryMs(samples, faultAt, 1000);

  // RPO: when was each lost write acknowledged, relative to the fault?
  const entries = new Map(ledger.all().map((e) => [e.id, e]));
  const lost = check.lost.map((id) => ({ id, ackedBeforeFaultMs: faultAt - (entries.get(id)?.settledAt ?? faultAt) }));
  // Inside the window: acknowledged at most RPO_GOAL before the fault, or while the kill was under way.
  const inside = lost.filter((l) => l.ackedBeforeFaultMs <= REGION_RPO_GOAL_MS && l.ackedBeforeFaultMs >= -(killedAt - faultAt) - 50);
  const figures: RegionLossFigures = {
    lostRegion: primary.definition.regionName,
    survivingRegion: standby.definition.regionName,
    killed: killed.pids.length,
    detectedMs: firstOf('detected'),
    decidedMs: firstOf('decided'),
    promotedMs: firstOf('promoted'),
    dnsFlipMs: dnsFlipAt === null ? null : dnsFlipAt - faultAt,
    clientSwitchedMs: clientSwitch ? clientSwitch.at - faultAt : null,
    serviceBackMs,
    lost,
    rpoWindowMs: lost.length ? Math.max(...lost.map((l) => l.ackedBeforeFaultMs)) : 0,
    lostInsideRpoWindow: inside.length,
    lostOutsideRpoWindow: lost.length - inside.length,
    lagBeforeSeconds: lagBefore.lag ?? x0?.lagSeconds ?? null,
    gtidDistanceBefore: lagBefore.distance ?? x0?.gtidDistance ?? null,
  };
  const criteria: Criterion[] = [
    criterion('processes of the lost region killed', '> 0', killed.pids.length, killed.pids.length > 0),
    criterion('the standby region promoted', `${standby.definition.regionName} promoted`, figures.promotedMs === null ? 'no promotion' : `after ${figures.promotedMs} ms`, figures.promotedMs !== null),
    criterion('DNS answers the surviving region', standby.definition.address, figures.dnsFlipMs === null ? 'never' : `after ${figures.dnsFlipMs} ms`, figures.dnsFlipMs !== null),
    criterion('service back through DNS', `<= ${REGION_RTO_GOAL_MS} ms`, `${serviceBackMs} ms`, serviceBackMs <= REGION_RTO_GOAL_MS && figures.clientSwitchedMs !== null),
    criterion('acknowledged writes lost outside the RPO window', `0 (window ${REGION_RPO_GOAL_MS} ms before the fault)`, figures.lostOutsideRpoWindow, figures.lostOutsideRpoWindow === 0),
    criterion('unexpected writes', '0', check.unexpected.length, check.unexpected.length === 0),
  ];
  return {
    scenario: 'region-loss',
    story: `given ${primary.definition.regionName} (writer) and ${standby.definition.regionName} (standby) under traffic that finds the site through ${d.dnsName}, when every process of ${primary.definition.regionName} is SIGKILLed, then ${standby.definition.regionName} is promoted, DNS answers it and the service is back within ${REGION_RTO_GOAL_MS / 1000} s, losing only writes acknowledged within ${REGION_RPO_GOAL_MS} ms before the fault`,
    ...regionReportBody({ d, samples, check, startedAt, faultAt, endedAt, durationMs: totalMs, ratePerSecond: timing.ratePerSecond }),
    events,
    criteria,
    pass: criteria.every((c) => c.pass),
    regions: figures,
  };
}

const fmt = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);

/** The region figures, printed under the common report. */
export function formatRegionLoss(f: RegionLossFigures): string[] {
  return [
    `  region: ${f.lostRegion} lost (${f.killed} processes SIGKILLed), ${f.survivingRegion} took over; before the fault: cross-region lag ${f.lagBeforeSeconds ?? '?'} s, GTID distance ${f.gtidDistanceBefore ?? '?'}`,
    `  RTO: detection ${fmt(f.detectedMs)}, decision ${fmt(f.decidedMs)}, promotion done ${fmt(f.promotedMs)}, DNS flip ${fmt(f.dnsFlipMs)}, client switched ${fmt(f.clientSwitchedMs)}, service back ${fmt(f.serviceBackMs)} (all from the fault)`,
    `  RPO: ${f.lost.length} acknowledged write(s) lost, ${f.lostInsideRpoWindow} inside the ${REGION_RPO_GOAL_MS} ms window, ${f.lostOutsideRpoWindow} outside; window shown ${f.rpoWindowMs} ms`,
    ...(f.lost.length ? [`    lost ids (acknowledged ms before the fault): ${f.lost.slice(0, 20).map((l) => `${l.id} (${l.ackedBeforeFaultMs})`).join(', ')}${f.lost.length > 20 ? ' …' : ''}`] : []),
  ];
}
