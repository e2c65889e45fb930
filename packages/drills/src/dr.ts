// The disaster drill (`tier drill dr`): given a running region with backups and traffic through the
// edge, when the whole region is lost (every process SIGKILLed, its state folder wiped: only the buckets
// and the key store remain), then it is recovered as the seed says: rebuilt from the definition, the
// latest full backup restored plus the archived binlogs, the app started, traffic resumed. Reports the
// RTO (loss → first acknowledged write, split by phase) and the RPO (acknowledged writes missing, by
// ledger id and by how long before the loss they were acknowledged).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { ResolvedDefinition } from '@conduit/definition';
import {
  backupEnv, dbSocket, endpoints, isAlive, listFulls, listSegments, queryNode, readRegion, regionDestroy, restoreRegion, seqOf, statePaths, supervisorState, waitUntil, watchdogState,
  type RestoreReport,
} from '@conduit/local';
import { checkSet, WriteLedger } from './ledger.js';
import { runLoad, type LoadResult } from './load.js';
import { conduitMix, prepareConduit, readAllWrites, settleWrite, signInDrillUsers, type ConduitTarget } from './workload.js';

export interface DrOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  configFile: string;
  /** Traffic before the loss and after the recovery. */
  warmupMs?: number;
  afterMs?: number;
  ratePerSecond?: number;
  log?: (line: string) => void;
}

export interface DrReport {
  scenario: 'dr';
  pass: boolean;
  startedAt: string;
  /** What was restored: rows of the application tables, the full backup's stored size. */
  data: { rows: number; fullBackupBytes: number; streamBytes: number };
  rto: {
    /** Loss → first acknowledged write through the edge. */
    totalMs: number;
    /** Killing every process and wiping the state folder (the disaster itself). */
    lossMs: number;
    /** Download + SHA-256 + decrypt + unpack, prepare, binlog replay, row counts and checksums, copy into the nodes. */
    fetchMs: number;
    prepareMs: number;
    replayMs: number;
    checkMs: number;
    installMs: number;
    /** The region rebuilt from the definition on the restored data: configs, every process, the database nodes replicating. */
    rebuildMs: number;
    /** Migrations and the API instances healthy behind the load balancers. */
    appStartMs: number;
    /** Region up → the first write acknowledged through the edge. */
    firstWriteMs: number;
  };
  rpo: {
    acknowledgedBeforeLoss: number;
    lost: number;
    lostIds: string[];
    /** How long before the loss the oldest lost write was acknowledged (null: nothing lost). */
    oldestLostAckBeforeLossMs: number | null;
    /** Indeterminate writes (in flight at the loss) found present. */
    recovered: number;
  };
  after: { sent: number; failed: number };
  /** The secondary region ran and was lost with the primary (it is not rebuilt by the drill: `tier up` starts it again). */
  secondaryLost: boolean;
  restore: RestoreReport;
  criteria: Array<{ name: string; expected: string; actual: string; pass: boolean }>;
}

const goalRtoMs = 120_000;
const goalRpoMs = 5_000;

async function post(baseUrl: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await request(new URL(path, baseUrl), {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Token ${token}` } : {}) },
    body: JSON.stringify(body), headersTimeout: 3_000, bodyTimeout: 3_000,
  });
  const text = await res.body.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.statusCode, json };
}

/** SIGKILLs a region's watchdog and supervisor: nothing of it replaces, fails over or promotes any more. */
function killControl(stateDir: string): void {
  const paths = statePaths(stateDir);
  const wd = watchdogState(paths);
  const sup = supervisorState(paths);
  for (const pid of [wd?.running ? wd.pid : null, sup?.running ? sup.pid : null]) if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** SIGKILLs every process group of a region; returns their pids. */
function killProcesses(stateDir: string): number[] {
  const procs = readRegion(stateDir).processes.filter((p) => p.pid !== null && isAlive(p.pid));
  for (const p of procs) try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
  return procs.map((p) => p.pid!);
}

/**
 * The disaster: every process SIGKILLed, then the state folder wiped. With a secondary region running (its
 * state folder lives inside the primary's) it is lost too: this drill is recovery from nothing (only the
 * buckets and the key store remain); a standby taking over is `drill region-loss`. Both regions' control
 * planes go first (the standby must not promote itself), then the primary's processes: the returned time
 * is that moment, the loss as its clients see it.
 */
async function loseRegion(o: DrOptions): Promise<{ lossAt: number; secondaryLost: boolean }> {
  const secondary = statePaths(o.stateDir).secondaryRoot;
  const secondaryLost = existsSync(secondary) && supervisorState(statePaths(secondary))?.running === true;
  if (secondaryLost) killControl(secondary);
  killControl(o.stateDir);
  const lossAt = Date.now();
  const pids = [...killProcesses(o.stateDir), ...(secondaryLost ? killProcesses(secondary) : [])];
  await waitUntil('every process of the region gone', async () => pids.every((p) => !isAlive(p)), 10_000, 25);
  await regionDestroy(o.stateDir);
  return { lossAt, secondaryLost };
}

export async function runDisasterDrill(o: DrOptions): Promise<DrReport> {
  const log = o.log ?? (() => undefined);
  const rate = o.ratePerSecond ?? 30;
  const warmupMs = o.warmupMs ?? 8_000;
  const afterMs = o.afterMs ?? 5_000;
  const d = o.definition;
  const edge = endpoints(d).edge;
  const env = backupEnv(d, o.stateDir, o.configFile);
  const startedAt = new Date().toISOString();
  if (!supervisorState(statePaths(o.stateDir))?.running) throw new Error(`region "${d.name}" is not running: \`tier up\` first`);

  // Given: a full backup in the bucket and the archive caught up with the primary.
  log('drill dr: waiting for a full backup in the bucket and the archive to catch up');
  await waitUntil('a full backup in the bucket', async () => (await listFulls(env)).length > 0, 180_000, 1_000);
  const full = (await listFulls(env)).at(-1)!;
  const ledger = new WriteLedger();
  const limits = { rateLimits: d.api.rateLimits, log };
  const target = await prepareConduit(edge, Math.ceil(((warmupMs + afterMs) / 1000) * rate * 0.3) + 10, { ...limits, peakWritesPerSecond: rate * 0.3 });
  const topo = readRegion(o.stateDir).topology!;
  const primarySocket = dbSocket(paths(o), d.dbNodes.find((n) => n.name === topo.primary)!);
  const pos = String((await queryNode<{ p: string }>(primarySocket, 'SELECT @@gtid_binlog_pos AS p'))[0]!.p);
  await waitUntil('the archive reaching the primary', async () => seqOf((await listSegments(env)).at(-1)?.to ?? '') >= seqOf(pos), 60_000, 250);

  // When: traffic, and the region lost in the middle of it (writes in flight).
  log(`drill dr: ${rate} req/s through ${edge}; the region is lost after ${(warmupMs / 1000).toFixed(0)} s`);
  const load = runLoad({
    baseUrl: edge, ratePerSecond: rate, durationMs: warmupMs + 2_000, maxRequests: Math.ceil(((warmupMs + 2_000) / 1000) * rate) + 1, timeoutMs: 3_000,
    next: conduitMix(target, ledger), onSample: (s) => settleWrite(ledger, s),
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  const { lossAt, secondaryLost } = await loseRegion(o);
  const lossMs = Date.now() - lossAt;
  log(`drill dr: region lost (every process SIGKILLed${secondaryLost ? ', the secondary region\'s too' : ''}, ${o.stateDir} wiped) in ${(lossMs / 1000).toFixed(1)} s; recovering from the buckets`);
  await load;

  // Then: rebuild, restore the latest backup plus the archive, start, and the first acknowledged write.
  const restore = await restoreRegion({ definition: d, stateDir: o.stateDir, configFile: o.configFile, to: 'latest', force: false, progress: (l) => log(`  ${l}`) });
  const upAt = Date.now();
  const password = `pw-${target.runId}-secret`;
  let token = '';
  let firstWriteAt = 0;
  let tries = 0;
  await waitUntil('the first acknowledged write after the recovery', async () => {
    if (!token) {
      const r = await post(edge, '/api/users/login', { user: { email: `${target.username}@drills.invalid`, password } }).catch(() => null);
      // The region's JWT secret was in the wiped state folder (on AWS it is in Secrets Manager): log in again.
      if (r?.status === 200) token = (r.json as { user: { token: string } }).user.token;
      if (!token) return false;
    }
    // Each try is a ledger write of its own: one that timed out may still have committed.
    const id = `${target.runId}-r${tries++}`;
    ledger.attempt(id);
    const w = await post(edge, `/api/articles/${target.slugs[0]}/comments`, { comment: { body: id } }, token).catch(() => null);
    if (w && w.status >= 200 && w.status < 300) {
      firstWriteAt = Date.now();
      ledger.settle(id, 'acknowledged', String(w.status), firstWriteAt);
    } else ledger.settle(id, w && w.status >= 400 && w.status < 500 ? 'failed' : 'indeterminate', w ? String(w.status) : 'network');
    return firstWriteAt > 0;
  }, 60_000, 100);
  log(`drill dr: first write acknowledged ${((firstWriteAt - lossAt) / 1000).toFixed(1)} s after the loss`);

  // Traffic resumes (same ledger: every write acknowledged after the recovery must be there too).
  // The rest of the pool signs in again too (paced by the per-address sign-in limit).
  const after: ConduitTarget = await signInDrillUsers(target, { ...limits, first: token });
  const resumed: LoadResult = await runLoad({
    baseUrl: edge, ratePerSecond: rate, durationMs: afterMs, maxRequests: Math.ceil((afterMs / 1000) * rate) + 1, timeoutMs: 3_000,
    next: (seq) => conduitMix(after, ledger)(seq + 1_000_000), onSample: (s) => settleWrite(ledger, s),
  });
  const observed = await readAllWrites(after);
  const check = checkSet(ledger.all(), observed);
  const byId = new Map(ledger.all().map((e) => [e.id, e]));
  // A response can reach its client just after the kill (the commit was before it): such a write belongs to
  // the old region (age 0), not to the recovered one, which acknowledges nothing before it is up.
  const lostAges = check.lost.map((id) => Math.max(0, lossAt - (byId.get(id)!.settledAt ?? lossAt)));
  const lostAfterRecovery = check.lost.filter((id) => (byId.get(id)!.settledAt ?? 0) > upAt).length;
  const oldest = lostAges.length ? Math.max(...lostAges) : null;
  const ackBefore = ledger.all().filter((e) => e.outcome === 'acknowledged' && (e.settledAt ?? 0) <= upAt).length;
  const totalMs = firstWriteAt - lossAt;
  const failedAfter = resumed.samples.filter((s) => s.outcome !== 'ok').length;
  const criteria = [
    { name: 'RTO (loss → first acknowledged write)', expected: `≤ ${goalRtoMs / 1000} s`, actual: `${(totalMs / 1000).toFixed(1)} s`, pass: totalMs <= goalRtoMs },
    { name: 'RPO (oldest lost write, acknowledged before the loss)', expected: `≤ ${goalRpoMs / 1000} s`, actual: oldest === null ? 'nothing lost' : `${(oldest / 1000).toFixed(1)} s (${check.lost.length} write(s))`, pass: oldest === null || oldest <= goalRpoMs },
    { name: 'writes acknowledged after the recovery, lost', expected: '0', actual: String(lostAfterRecovery), pass: lostAfterRecovery === 0 },
    { name: 'unexpected writes (never attempted)', expected: '0', actual: String(check.unexpected.length), pass: check.unexpected.length === 0 },
    { name: 'failed requests once traffic resumed', expected: '0', actual: `${failedAfter} of ${resumed.samples.length}`, pass: failedAfter === 0 },
  ];
  return {
    scenario: 'dr', pass: criteria.every((c) => c.pass), startedAt,
    data: { rows: restore.rows, fullBackupBytes: full.object.bytes, streamBytes: full.streamBytes },
    rto: {
      totalMs, lossMs, fetchMs: restore.timings.fetch * 1000, prepareMs: restore.timings.prepare * 1000, replayMs: restore.timings.replay * 1000,
      checkMs: restore.timings.check * 1000, installMs: restore.timings.install * 1000,
      rebuildMs: restore.timings.rebuild * 1000, appStartMs: restore.timings.appStart * 1000, firstWriteMs: firstWriteAt - upAt,
    },
    rpo: { acknowledgedBeforeLoss: ackBefore, lost: check.lost.length, lostIds: check.lost.slice(0, 20), oldestLostAckBeforeLossMs: oldest, recovered: check.recovered.length },
    after: { sent: resumed.samples.length, failed: failedAfter },
    secondaryLost,
    restore,
    criteria,
  };
}

const paths = (o: DrOptions) => statePaths(o.stateDir);

/** <stateDir>/drills/dr-<timestamp>.json (the state folder of the recovered region). */
export function writeDrReport(stateDir: string, r: DrReport): string {
  const dir = join(stateDir, 'drills');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `dr-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

export function formatDrReport(r: DrReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const t = r.rto;
  return [
    `drill dr: ${r.pass ? 'PASS' : 'FAIL'}`,
    '  Given a running region with backups and traffic, when the whole region is lost (every process killed, state wiped),',
    '  then it is rebuilt from the definition, the latest backup + archived binlogs restored, and traffic resumes.',
    `  data: ${r.data.rows} rows; latest full backup ${(r.data.streamBytes / 1048576).toFixed(1)} MB streamed, ${(r.data.fullBackupBytes / 1048576).toFixed(1)} MB stored`,
    `  RTO ${s(t.totalMs)}: loss ${s(t.lossMs)}; restore ${s(t.fetchMs + t.prepareMs + t.checkMs + t.installMs)} (fetch+decrypt+unpack ${s(t.fetchMs)}, prepare ${s(t.prepareMs)}, checksums ${s(t.checkMs)}, copy into nodes ${s(t.installMs)}); replay ${s(t.replayMs)}; rebuild ${s(t.rebuildMs)}; app start ${s(t.appStartMs)}; first write ${s(t.firstWriteMs)}`,
    `  RPO: ${r.rpo.lost} of ${r.rpo.acknowledgedBeforeLoss} writes acknowledged before the loss are missing${r.rpo.oldestLostAckBeforeLossMs !== null ? `, the oldest acknowledged ${s(r.rpo.oldestLostAckBeforeLossMs)} before it` : ''}; ${r.rpo.recovered} in-flight write(s) present`,
    ...(r.rpo.lostIds.length ? [`  lost: ${r.rpo.lostIds.join(', ')}`] : []),
    ...(r.secondaryLost ? ['  the secondary region was lost too (its state lives inside the primary\'s) and is not rebuilt here: `tier up` starts it as a standby'] : []),
    ...r.criteria.map((c) => `  ${c.pass ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.actual} (expected ${c.expected})`),
  ].join('\n');
}
