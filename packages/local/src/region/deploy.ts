// `tier deploy` / `tier rollback`: a rolling deploy of a running region, the way an Auto Scaling
// instance refresh with a checkpoint works. Build/install the release, take the deploy lock, run its
// migrations, point new launches at it (current.json), then per tier (API, then front), zone by zone:
// start a new-version instance in a spare slot (same zone first), barrier = health check + a smoke
// request, add it to the pool, drain the old one (deadline), stop it. After the first instance of a
// tier: the canary bake (canary.ts). Any failure stops the deploy and rolls back what was replaced,
// with the same procedure, and restores the previous version for new launches.
import { join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import type { ReleaseFault } from '@conduit/release';
import { judgeCanary, type CanaryVerdict } from '../canary.js';
import { BACKENDS } from '../generators/haproxy.js';
import { releaseTierDir, statePaths } from '../paths.js';
import { addToPool, drainFromPool, type PoolInstance, type PoolTier, type RolloutTarget } from '../rollout.js';
import { currentVersion, ensureRelease, installedRelease, previousVersion, recordHistory, setCurrentVersion, type HistoryEntry } from '../releases.js';
import { backendStat, httpGet, runOnce, supervisorRequest } from '../runner/index.js';
import { databaseUrls } from '../specs/processes.js';
import { readRegion, readSecrets, supervisorState, takeLockFile } from '../state.js';
import { RegionError } from './errors.js';

export interface DeployOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  /** An installed or built version; default: the release of the current sources (built when missing). */
  version?: string;
  /** Test releases only (drills): deploy the sources' release with this fault bundled in. */
  fault?: ReleaseFault;
  /** Test releases only: a second build of the same sources, versioned `<sources>-<variant>` (something to deploy to). */
  variant?: string;
  /** One line per step ("api-4 healthy after 1.2 s"). */
  progress?: (line: string) => void;
}

export interface ReplacedInstance {
  tier: PoolTier;
  old: string;
  oldVersion: string;
  new: string;
}

export interface DeployReport {
  action: 'deploy' | 'rollback';
  from: string | null;
  to: string;
  /** ok | rolled back (a step failed: what was replaced went back) | nothing to do. */
  result: 'ok' | 'rolled back' | 'nothing to do';
  error: string | null;
  migrations: string;
  replaced: ReplacedInstance[];
  canaries: Array<{ tier: PoolTier } & CanaryVerdict>;
  seconds: number;
  history: HistoryEntry;
}

/** A smoke request straight to the new instance (not through the pool): a real page / API read. */
const SMOKE: Record<PoolTier, string> = { api: '/api/tags', front: '/' };

const ZONE_ORDER = (a: { zone: string | null; name: string }, b: { zone: string | null; name: string }) =>
  (a.zone ?? '').localeCompare(b.zone ?? '') || a.name.localeCompare(b.name, 'en', { numeric: true });

export async function regionDeploy(o: DeployOptions & { action?: 'deploy' | 'rollback' }): Promise<DeployReport> {
  const t0 = Date.now();
  const d = o.definition;
  const action = o.action ?? 'deploy';
  const say = o.progress ?? (() => undefined);
  const paths = statePaths(o.stateDir);
  if (!supervisorState(paths)?.running) throw new RegionError('the region is not running: start it with `tier up`, then deploy');
  const release = await ensureRelease(d, paths, { version: o.version, fault: o.fault, variant: o.variant, progress: say }).catch((e: Error) => {
    throw new RegionError(e.message);
  });
  const to = release.version;
  const unlock = takeLockFile(paths.deployLock, (pid) => new RegionError(`another deploy (pid ${pid}) is running on this region: wait for it`));
  const from = currentVersion(paths);
  const replaced: ReplacedInstance[] = [];
  const canaries: DeployReport['canaries'] = [];
  let migrations = '';
  try {
    say(`${action} ${from ?? '(none)'} → ${to}`);
    const urls = databaseUrls(d, readSecrets(paths));
    const apiDir = releaseTierDir(paths, to, 'api');
    migrations = (await runOnce(process.execPath, [join(apiDir, 'migrate.mjs')], { env: { DATABASE_WRITER_URL: urls.writer, DATABASE_TLS_CA: paths.tls.ca }, cwd: apiDir })).trim();
    say(`migrations: ${migrations}`);
    // New launches (the autoscaler's scale-outs included) run the new version from now on.
    setCurrentVersion(paths, to);
    const target = (version: string) => versionTarget(d, paths.root, version, say);
    for (const tier of ['api', 'front'] as const) {
      const olds = readRegion(paths.root).processes.filter((p) => p.tier === tier && p.pid !== null && p.version !== to).sort(ZONE_ORDER);
      for (const [i, old] of olds.entries()) {
        const slot = spareSlot(d, paths.root, tier, old.zone);
        const fresh: PoolInstance = { tier, name: slot.name, port: slot.port };
        say(`${tier}: replacing ${old.name} (zone ${old.zone}, ${old.version ?? 'unknown version'}) with ${fresh.name} (zone ${slot.zone}, ${to})`);
        await addToPool(target(to), fresh, { healthyWithinMs: d.deploy.readyWithinSeconds * 1000 });
        await smoke(fresh, d.address).catch(async (e: Error) => {
          await drainFromPool(target(to), fresh, 0).catch(() => undefined);
          throw e;
        });
        replaced.push({ tier, old: old.name, oldVersion: old.version ?? from ?? to, new: fresh.name });
        await drainFromPool(target(to), { tier, name: old.name, port: old.port }, drainMs(d));
        if (i === 0 && d.deploy.bakeSeconds > 0) {
          const verdict = await bake(d, paths.haproxySocket, tier, [fresh.name], olds.slice(1).map((p) => p.name), say);
          canaries.push({ tier, ...verdict });
          if (!verdict.ok) throw new Error(`canary analysis failed: ${verdict.sentence}`);
        }
      }
    }
    const result = replaced.length ? 'ok' : 'nothing to do';
    say(result === 'ok' ? `${action} done: ${replaced.length} instance(s) run ${to}` : `every instance already runs ${to}`);
    const history = recordHistory(paths, release, action, 'ok', from);
    return { action, from, to, result, error: null, migrations, replaced, canaries, seconds: (Date.now() - t0) / 1000, history };
  } catch (e) {
    const error = (e as Error).message;
    say(`${action} failed: ${error}`);
    say(`rolling back ${replaced.length} replaced instance(s)`);
    if (from) setCurrentVersion(paths, from);
    const back = await rollBack(d, paths.root, replaced, say);
    const history = recordHistory(paths, release, action, `failed: ${error}; ${back}`, from);
    return { action, from, to, result: 'rolled back', error, migrations, replaced, canaries, seconds: (Date.now() - t0) / 1000, history };
  } finally {
    unlock();
  }
}

/** `tier rollback`: the previous successfully deployed release, with the same rolling procedure. */
export async function regionRollback(o: Omit<DeployOptions, 'version' | 'fault' | 'variant'>): Promise<DeployReport> {
  const paths = statePaths(o.stateDir);
  const prev = previousVersion(paths);
  if (!prev || !installedRelease(paths, prev)) throw new RegionError('no previous release to roll back to (see releases/history.jsonl): deploy one with `tier deploy --version V`');
  return regionDeploy({ ...o, version: prev, action: 'rollback' });
}

/** The supervisor, starting instances of one release version. */
const versionTarget = (d: ResolvedDefinition, stateDir: string, version: string, progress: (l: string) => void): RolloutTarget => ({
  definition: d, haproxySocket: statePaths(stateDir).haproxySocket, progress,
  start: (name) => supervisorRequest(stateDir, { op: 'start', name, version }),
  stop: (name) => supervisorRequest(stateDir, { op: 'stop', name }),
  forget: (name) => supervisorRequest(stateDir, { op: 'forget', name }),
});

/** Drain deadline of both tiers: api.drainSeconds (the deregistration delay of the ALB target groups). */
const drainMs = (d: ResolvedDefinition) => d.api.drainSeconds * 1000;

/** A slot of the tier no process holds (a stopped-and-forgotten one is free), in `zone` when there is one. */
function spareSlot(d: ResolvedDefinition, stateDir: string, tier: PoolTier, zone: string | null) {
  const held = new Set(readRegion(stateDir).processes.filter((p) => p.tier === tier).map((p) => p.name));
  const free = d[`${tier}Slots`].filter((s) => !held.has(s.name));
  const slot = free.find((s) => s.zone === zone) ?? free[0];
  if (!slot) throw new Error(`${tier}: no spare slot for a new instance (every slot up to ${tier}.instances.max is held): a rolling deploy needs max > running`);
  return slot;
}

async function smoke(i: PoolInstance, host: string): Promise<void> {
  const r = await httpGet(`http://${host}:${i.port}${SMOKE[i.tier]}`, { timeoutMs: 5_000 }).catch((e: Error) => ({ status: 0, body: e.message }));
  if (r.status !== 200) throw new Error(`${i.name}: smoke request GET ${SMOKE[i.tier]} answered ${r.status || r.body}`);
}

/** Lets the canary serve for deploy.bakeSeconds, then judges it against the old instances from HAProxy's counters. */
async function bake(d: ResolvedDefinition, socket: string, tier: PoolTier, canary: string[], old: string[], say: (l: string) => void): Promise<CanaryVerdict> {
  say(`${tier}: baking canary ${canary.join(', ')} for ${d.deploy.bakeSeconds} s beside ${old.join(', ') || 'no old instance'}`);
  const backend = BACKENDS[tier];
  const before = (await backendStat(socket, backend)).servers;
  const end = Date.now() + d.deploy.bakeSeconds * 1000;
  let verdict: CanaryVerdict | null = null;
  // Judged every second: a clearly bad canary is caught before the window ends.
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(0, end - Date.now()))));
    verdict = judgeCanary(d, canary, old, before, (await backendStat(socket, backend)).servers);
    if (!verdict.ok) break;
  }
  verdict ??= judgeCanary(d, canary, old, before, (await backendStat(socket, backend)).servers);
  say(`${tier}: ${verdict.sentence}`);
  return verdict;
}

/** Puts back what a failed deploy replaced, newest first: an old-version instance joins, then the new one drains. */
async function rollBack(d: ResolvedDefinition, stateDir: string, replaced: ReplacedInstance[], say: (l: string) => void): Promise<string> {
  const failed: string[] = [];
  for (const r of [...replaced].reverse()) {
    const t = (version: string) => versionTarget(d, stateDir, version, say);
    try {
      const newRec = readRegion(stateDir).processes.find((p) => p.name === r.new);
      const slot = spareSlot(d, stateDir, r.tier, newRec?.zone ?? null);
      await addToPool(t(r.oldVersion), { tier: r.tier, name: slot.name, port: slot.port }, { healthyWithinMs: d.deploy.readyWithinSeconds * 1000 });
      if (newRec) await drainFromPool(t(r.oldVersion), { tier: r.tier, name: r.new, port: newRec.port }, drainMs(d));
    } catch (e) {
      failed.push(`${r.new}: ${(e as Error).message}`);
    }
  }
  return failed.length
    ? `rollback incomplete (${failed.join('; ')}): check \`tier status\``
    : `rolled back ${replaced.length} instance(s) to the previous version`;
}
