// The two drills that move the writer role between regions on purpose, same load generator, ledger and checker
// as region-loss (traffic finds the site through the global DNS name, honouring its TTL):
// - region-failback: given a writer region and the old writer region lost or fenced (after region-loss or
//   `tier region failover`), when the old region returns (`tier up`, or `tier region rejoin` if it runs), then
//   it rejoins as the standby (its errant transactions saved to errant/, rewound), catches up, every table of
//   the application has the same CHECKSUM TABLE in both regions, DNS keeps answering the writer region and no
//   acknowledged write is lost.
// - region-switchover: given both regions whole, when `tier region switchover` swaps the roles under traffic,
//   then no acknowledged write is lost and writes pause at most 5 s (the pause is reported).
import { readFileSync } from 'node:fs';
import type { ResolvedDefinition } from '@conduit/definition';
import {
  crossRegionStatus, dbSocket, dnsAnswer, dnsServers, readRegion, regionsByRole, readRegionRole, readTopology, regionRejoin, regionsUp, regionSwitchover, statePaths, tableSums, waitUntil,
  type LocalRegion, type SwitchoverReport,
} from '@conduit/local';
import { followDns } from './dns.js';
import { criterion, takeDrillLock } from './drill.js';
import { checkSet, WriteLedger, type SetCheck } from './ledger.js';
import { runLoad, type Sample } from './load.js';
import { regionHandle } from './region.js';
import type { RegionLossTiming } from './region-loss.js';
import { firstFailures, type Criterion, type DrillEvent, type DrillReport } from './report.js';
import { countBy, recoveryMs, splitPhases } from './stats.js';
import { conduitMix, prepareConduit, readAllWrites, settleWrite, type ConduitTarget } from './workload.js';

/** Traffic before the action (the "fault" of the report), and after it has returned (afterFaultMs). */
export type RoleDrillTiming = RegionLossTiming;

export const failbackShortTiming: RoleDrillTiming = { warmupMs: 2_000, afterFaultMs: 2_000, ratePerSecond: 10 };
export const failbackFullTiming: RoleDrillTiming = { warmupMs: 5_000, afterFaultMs: 5_000, ratePerSecond: 30 };
export const switchoverShortTiming: RoleDrillTiming = { warmupMs: 3_000, afterFaultMs: 4_000, ratePerSecond: 20 };
export const switchoverFullTiming: RoleDrillTiming = { warmupMs: 6_000, afterFaultMs: 8_000, ratePerSecond: 40 };

/** The issue's bar for a planned switchover. */
export const SWITCHOVER_PAUSE_GOAL_MS = 5_000;

/** The common part of a region drill's report, from the load's samples and the ledger's set check. */
export function regionReportBody(o: {
  d: ResolvedDefinition; samples: readonly Sample[]; check: SetCheck; startedAt: number; faultAt: number; endedAt: number; durationMs: number; ratePerSecond: number;
}): Omit<DrillReport, 'scenario' | 'story' | 'events' | 'criteria' | 'pass'> {
  const { samples, check } = o;
  const statusKey = (s: Sample) => (s.status !== null ? String(s.status) : s.outcome);
  const endOfTraffic = o.startedAt + o.durationMs;
  return {
    startedAt: new Date(o.startedAt).toISOString(),
    endedAt: new Date(o.endedAt).toISOString(),
    faultAt: new Date(o.faultAt).toISOString(),
    healedAt: new Date(endOfTraffic).toISOString(),
    load: { ratePerSecond: o.ratePerSecond, durationMs: o.durationMs, sent: samples.length, target: `http://${o.d.dnsName}:${o.d.local.ports.edge}/ via ${dnsServers(o.d).join(', ')}` },
    statusCounts: countBy(samples, statusKey),
    errorsByKind: countBy(samples, (s) => s.errorKind),
    failedByRequestKind: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.kind),
    failedByLabel: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.label),
    failures: firstFailures(samples, o.faultAt),
    failedIdempotent: samples.filter((s) => s.idempotent && s.outcome !== 'ok').length,
    phases: splitPhases(samples, o.faultAt, endOfTraffic),
    recovery: { serviceMs: recoveryMs(samples, o.faultAt, 1000), writesMs: recoveryMs(samples, o.faultAt, 1000, (s) => s.kind === 'write'), readsMs: recoveryMs(samples, o.faultAt, 1000, (s) => s.kind !== 'write') },
    writes: {
      attempted: check.attempted, acknowledged: check.acknowledged, failed: check.failed, indeterminate: check.indeterminate,
      notRecovered: check.notRecovered, failedButPresent: check.failedButPresent, duplicated: check.duplicated, ok: check.ok,
      lost: check.lost.slice(0, 100), unexpected: check.unexpected.slice(0, 100), recovered: check.recovered.length,
      lostCount: check.lost.length, unexpectedCount: check.unexpected.length,
    },
    timeline: [],
  };
}

/** Reads every write back from a region's edge (retrying while it settles) and checks the ledger against it. */
export async function finalCheck(ledger: WriteLedger, target: ConduitTarget, log: (line: string) => void, deadlineMs = 15_000): Promise<SetCheck> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return checkSet(ledger.all(), await readAllWrites(target));
    } catch (e) {
      if (Date.now() > deadline) {
        log(`  final read: ${(e as Error).message}`);
        return checkSet(ledger.all(), []);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Traffic through the DNS name while `action` runs once after the warm-up; the events it and the DNS watch said. */
async function underDnsLoad<T>(d: ResolvedDefinition, writerEdge: string, timing: RoleDrillTiming, actionBudgetMs: number, log: (line: string) => void, action: (event: (s: string, source?: string) => void) => Promise<T>) {
  const totalMs = timing.warmupMs + actionBudgetMs + timing.afterFaultMs;
  const target = await prepareConduit(writerEdge, Math.ceil((totalMs / 1000) * timing.ratePerSecond * 0.3) + 10);
  const ledger = new WriteLedger();
  const client = await followDns(dnsServers(d), d.dnsName, d.local.ports.edge);
  const events: DrillEvent[] = [];
  let faultAt = 0;
  const event = (sentence: string, source = 'drill', at = Date.now()) => {
    events.push({ at, offsetMs: faultAt ? at - faultAt : 0, source, sentence });
    log(`  ${sentence}`);
  };
  const answers: Array<{ at: number; region: string | null }> = [];
  let watching = true;
  let lastAnswer: string | null = null;
  const dnsWatch = (async () => {
    while (watching) {
      const a = await dnsAnswer(d, 500);
      answers.push({ at: Date.now(), region: a.region });
      const answer = a.addresses?.join(', ') ?? `no answer (${a.error})`;
      if (answer !== lastAnswer && faultAt) event(`DNS answers ${answer}${a.region ? ` (${a.region})` : ''} for ${d.dnsName}`, 'dns');
      lastAnswer = answer;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const startedAt = Date.now();
  // Open-ended: the load stops when the action has returned and the after-traffic has run.
  const stop = new AbortController();
  const load = runLoad({
    baseUrl: client.url(), baseUrlFor: client.url, ratePerSecond: timing.ratePerSecond, durationMs: totalMs + 60_000,
    maxRequests: Math.ceil(((totalMs + 60_000) / 1000) * timing.ratePerSecond) + 1, timeoutMs: 5000,
    next: conduitMix(target, ledger), onSample: (s) => settleWrite(ledger, s), signal: stop.signal,
  });
  let result: T | undefined;
  let failure: Error | null = null;
  let actionEndedAt = 0;
  const script = (async () => {
    await new Promise((r) => setTimeout(r, timing.warmupMs));
    faultAt = Date.now();
    try {
      result = await action(event);
    } catch (e) {
      failure = e as Error;
      event(`failed: ${failure.message.split('\n')[0]}`);
    }
    actionEndedAt = Date.now();
    await new Promise((r) => setTimeout(r, timing.afterFaultMs));
    stop.abort();
  })();
  const [loaded] = await Promise.all([load, script]);
  watching = false;
  await dnsWatch;
  client.stop();
  for (const c of client.changes.filter((c) => c.at >= faultAt)) event(`the drill's client now sends to ${c.address} (TTL ${c.ttl} s)`, 'client', c.at);
  return { samples: loaded.samples, ledger, target, events, answers, startedAt, faultAt, actionEndedAt, durationMs: Date.now() - startedAt, result, failure: failure as Error | null };
}

interface JournalLine { at: string; kind: string; sentence: string; errantTransactions?: number; files?: string[] }

function decisions(stateDir: string, since: number): JournalLine[] {
  try {
    return readFileSync(statePaths(stateDir).regionFailoverJournal, 'utf8').trim().split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as JournalLine).filter((l) => Date.parse(l.at) >= since);
  } catch {
    return [];
  }
}

/** CHECKSUM TABLE of every application table at a region's database primary. */
async function appChecksums(r: LocalRegion): Promise<Record<string, string>> {
  const paths = statePaths(r.stateDir);
  const t = readTopology(paths);
  if (!t) return {};
  const sums = await tableSums(dbSocket(paths, { name: t.primary }), r.definition.database.databaseName);
  return Object.fromEntries(sums.map((s) => [s.table, `${s.checksum} (${s.rows} rows)`]));
}

export interface FailbackFigures {
  returned: string;
  writer: string;
  /** How it came back: `tier up` (it was down) or `tier region rejoin` (it ran, fenced). */
  how: 'up' | 'rejoin';
  /** ms from the start of the return to the returned region replicating with GTID distance 0. */
  failbackMs: number | null;
  errantTransactions: number;
  errantFiles: string[];
  /** CHECKSUM TABLE per application table in each region, and whether they are all equal. */
  checksums: { writer: Record<string, string>; returned: Record<string, string>; equal: boolean };
  /** DNS answers that pointed at the returned region while it rejoined (must stay 0). */
  dnsAnsweredReturned: number;
  cacheGeneration: number | null;
}

export type FailbackReport = DrillReport & { failback: FailbackFigures };

export interface RoleDrillOptions {
  configFile: string;
  timing?: RoleDrillTiming;
  log?: (line: string) => void;
}

/** The returning region comes back (`tier up` when down, `tier region rejoin` when it runs) under traffic. */
export async function runRegionFailback(d: ResolvedDefinition, stateDir: string, o: RoleDrillOptions): Promise<FailbackReport> {
  const timing = o.timing ?? failbackFullTiming;
  const log = o.log ?? (() => undefined);
  const { writer, standby } = regionsByRole(d, stateDir);
  const release = takeDrillLock(stateDir);
  try {
    const running = readRegion(standby.stateDir).supervisor?.running === true;
    const how = running ? 'rejoin' : 'up';
    log(`drill region-failback: ${standby.definition.regionName} returns (${running ? '`tier region rejoin`' : '`tier up`'}) as the standby of ${writer.definition.regionName}, under traffic through ${d.dnsName}`);
    const run = await underDnsLoad(d, regionHandle(writer.definition, writer.stateDir).edge, timing, 30_000, log, async (event) => {
      event(`${standby.definition.regionName} returns: ${running ? 'tier region rejoin' : 'tier up'}`);
      if (running) await regionRejoin(d, stateDir, (l) => event(l, 'rejoin'));
      else await regionsUp({ definition: d, stateDir, configFile: o.configFile, progress: (l) => log(`    ${l}`) });
      await waitUntil(`${standby.definition.regionName} replicating and caught up`, async () => {
        const x = await crossRegionStatus([writer, standby]);
        return x?.replicating && x.gtidDistance === 0;
      }, 30_000, 100);
      event(`${standby.definition.regionName} replicates from ${writer.definition.regionName} and has caught up`);
    });
    const failbackMs = run.failure ? null : run.actionEndedAt - run.faultAt;
    // Then: caught up after the traffic, the same tables in both regions, nothing acknowledged lost.
    await waitUntil('the standby caught up after the traffic', async () => (await crossRegionStatus([writer, standby]))?.gtidDistance === 0, 15_000, 200).catch(() => undefined);
    const [ws, rs] = await Promise.all([appChecksums(writer), appChecksums(standby)]);
    const equal = Object.keys(ws).length > 0 && JSON.stringify(ws) === JSON.stringify(rs);
    const check = await finalCheck(run.ledger, run.target, log);
    const rejoined = decisions(standby.stateDir, run.startedAt).filter((j) => j.kind === 'rejoined');
    for (const j of rejoined) run.events.push({ at: Date.parse(j.at), offsetMs: Date.parse(j.at) - run.faultAt, source: 'rejoin', sentence: j.sentence });
    run.events.sort((a, b) => a.at - b.at);
    const role = readRegionRole(statePaths(standby.stateDir));
    const figures: FailbackFigures = {
      returned: standby.definition.regionName, writer: writer.definition.regionName, how, failbackMs,
      errantTransactions: rejoined.reduce((n, j) => n + (j.errantTransactions ?? 0), 0),
      errantFiles: rejoined.flatMap((j) => j.files ?? []),
      checksums: { writer: ws, returned: rs, equal },
      dnsAnsweredReturned: run.answers.filter((a) => a.at >= run.faultAt && a.region === standby.definition.regionName).length,
      cacheGeneration: role?.cacheGeneration ?? null,
    };
    const criteria: Criterion[] = [
      criterion(`${standby.definition.regionName} rejoined as the standby`, 'standby, replicating, GTID distance 0', run.failure ? run.failure.message.split('\n')[0]! : `${role?.role} after ${failbackMs} ms`, !run.failure && role?.role === 'standby'),
      criterion('its rejoin recorded (errant transactions saved first)', 'a rejoined decision', rejoined.length ? `${figures.errantTransactions} errant, ${figures.errantFiles.length} file(s)` : 'none', rejoined.length > 0),
      criterion('CHECKSUM TABLE of the application tables', 'equal in both regions', equal ? `equal (${Object.keys(ws).length} tables)` : `differ: ${JSON.stringify(ws)} vs ${JSON.stringify(rs)}`, equal),
      criterion(`DNS answers ${writer.definition.regionName} throughout`, `0 answers for ${standby.definition.regionName}`, figures.dnsAnsweredReturned, figures.dnsAnsweredReturned === 0),
      criterion('acknowledged writes lost', '0', check.lost.length, check.lost.length === 0),
      criterion('unexpected writes', '0', check.unexpected.length, check.unexpected.length === 0),
    ];
    return {
      scenario: 'region-failback',
      story: `given ${writer.definition.regionName} writing after a region failover and ${standby.definition.regionName} lost or fenced, under traffic through ${d.dnsName}, when ${standby.definition.regionName} returns, then it rejoins as the standby (what it held that ${writer.definition.regionName} never received saved to errant/ and undone), catches up, both regions' tables have the same checksums, DNS keeps answering ${writer.definition.regionName} and no acknowledged write is lost`,
      ...regionReportBody({ d, samples: run.samples, check, startedAt: run.startedAt, faultAt: run.faultAt, endedAt: Date.now(), durationMs: run.durationMs, ratePerSecond: timing.ratePerSecond }),
      events: run.events, criteria, pass: criteria.every((c) => c.pass), failback: figures,
    };
  } finally {
    release();
  }
}

export interface SwitchoverFigures {
  from: string;
  to: string;
  /** The switchover's own figures: writes refused from the pause to the new writer being writable. */
  writePauseMs: number | null;
  caughtUpMs: number | null;
  /** What clients saw: ms from the start of the switchover to the last failed write (DNS TTL included). */
  clientWriteGapMs: number;
  dnsFlipMs: number | null;
}

export type SwitchoverDrillReport = DrillReport & { switchover: SwitchoverFigures };

/** `tier region switchover` under traffic through the DNS name. */
export async function runRegionSwitchover(d: ResolvedDefinition, stateDir: string, o: Omit<RoleDrillOptions, 'configFile'> = {}): Promise<SwitchoverDrillReport> {
  const timing = o.timing ?? switchoverFullTiming;
  const log = o.log ?? (() => undefined);
  const { writer, standby } = regionsByRole(d, stateDir);
  const release = takeDrillLock(stateDir);
  try {
    log(`drill region-switchover: ${writer.definition.regionName} → ${standby.definition.regionName} under traffic through ${d.dnsName}`);
    await waitUntil('the standby replicating and caught up', async () => {
      const x = await crossRegionStatus([writer, standby]);
      return x?.replicating && x.gtidDistance === 0;
    }, 30_000, 200);
    await waitUntil(`DNS answering ${writer.definition.regionName}`, async () => (await dnsAnswer(d)).region === writer.definition.regionName, 15_000, 200);
    const run = await underDnsLoad<SwitchoverReport>(d, regionHandle(writer.definition, writer.stateDir).edge, timing, 0, log, async (event) => {
      event(`tier region switchover: ${writer.definition.regionName} → ${standby.definition.regionName}`);
      const r = await regionSwitchover(d, stateDir, (l) => event(l, 'switchover'));
      event(`switchover done: writes paused ${r.writePauseMs} ms (caught up in ${r.caughtUpMs} ms at GTID ${r.gtid})`, 'switchover');
      return r;
    });
    const newWriter = { ...run.target, baseUrl: regionHandle(standby.definition, standby.stateDir).edge };
    const check = await finalCheck(run.ledger, newWriter, log);
    const flip = run.answers.find((a, i) => a.at >= run.faultAt && a.region === standby.definition.regionName && run.answers.slice(i).every((b) => b.region === standby.definition.regionName));
    const figures: SwitchoverFigures = {
      from: writer.definition.regionName, to: standby.definition.regionName,
      writePauseMs: run.result?.writePauseMs ?? null, caughtUpMs: run.result?.caughtUpMs ?? null,
      clientWriteGapMs: recoveryMs(run.samples, run.faultAt, 5_000, (s) => s.kind === 'write'),
      dnsFlipMs: flip ? flip.at - run.faultAt : null,
    };
    const criteria: Criterion[] = [
      criterion('switchover done', `${standby.definition.regionName} the writer`, run.failure ? run.failure.message.split('\n')[0]! : 'done', !run.failure),
      criterion('writes paused', `<= ${SWITCHOVER_PAUSE_GOAL_MS} ms`, figures.writePauseMs === null ? '-' : `${figures.writePauseMs} ms`, figures.writePauseMs !== null && figures.writePauseMs <= SWITCHOVER_PAUSE_GOAL_MS),
      criterion('DNS answers the new writer region', standby.definition.address, figures.dnsFlipMs === null ? 'never' : `after ${figures.dnsFlipMs} ms`, figures.dnsFlipMs !== null),
      criterion('acknowledged writes lost', '0', check.lost.length, check.lost.length === 0),
      criterion('unexpected writes', '0', check.unexpected.length, check.unexpected.length === 0),
    ];
    return {
      scenario: 'region-switchover',
      story: `given ${writer.definition.regionName} (writer) and ${standby.definition.regionName} (standby) under traffic through ${d.dnsName}, when the roles are swapped with \`tier region switchover\`, then no acknowledged write is lost and writes pause at most ${SWITCHOVER_PAUSE_GOAL_MS / 1000} s`,
      ...regionReportBody({ d, samples: run.samples, check, startedAt: run.startedAt, faultAt: run.faultAt, endedAt: Date.now(), durationMs: run.durationMs, ratePerSecond: timing.ratePerSecond }),
      events: run.events, criteria, pass: criteria.every((c) => c.pass), switchover: figures,
    };
  } finally {
    release();
  }
}

const fmt = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);

export function formatFailback(f: FailbackFigures): string[] {
  return [
    `  failback: ${f.returned} returned (${f.how === 'up' ? 'tier up' : 'tier region rejoin'}) as the standby of ${f.writer} in ${fmt(f.failbackMs)} (to replicating, caught up); cache generation ${f.cacheGeneration ?? '?'}`,
    `  errant transactions saved: ${f.errantTransactions}${f.errantFiles.length ? ` in ${f.errantFiles.join(', ')}` : ''}`,
    `  CHECKSUM TABLE: ${f.checksums.equal ? 'equal' : 'DIFFERENT'} in both regions (${Object.entries(f.checksums.writer).map(([t, v]) => `${t} ${v}`).join(', ')}); DNS answers for ${f.returned} meanwhile: ${f.dnsAnsweredReturned}`,
  ];
}

export function formatSwitchover(f: SwitchoverFigures): string[] {
  return [`  switchover ${f.from} → ${f.to}: writes paused ${f.writePauseMs ?? '-'} ms (caught up in ${f.caughtUpMs ?? '-'} ms); clients' last failed write ${fmt(f.clientWriteGapMs)} after the start (DNS TTL included); DNS flip ${fmt(f.dnsFlipMs)}`];
}
