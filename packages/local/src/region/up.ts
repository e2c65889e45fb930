// `tier up`: checks, builds the SPA if needed, writes the plan, starts the supervisor daemon and
// relays its progress until the region is ready. The supervisor keeps running after we return.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedDefinition } from '@conduit/definition';
import { portClaims, tsxLoaderPath } from '../specs/processes.js';
import { repoRoot, statePaths } from '../paths.js';
import { ensureRelease, recordHistory, setCurrentVersion } from '../releases.js';
import { portsBlockedByConnections, takenPorts, waitUntil } from '../runner/probe.js';
import { spawnDaemon } from '../runner/spawn.js';
import { supervisorState, takeLockFile, watchdogState, writeFileAtomic } from '../state.js';
import { stopLeftovers } from './down.js';
import { RegionError } from './errors.js';
import type { RegionPlan, SupervisorMessage } from '../supervisor/plan.js';

export interface UpOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  configFile: string;
  progress: (line: string) => void;
}

export type UpResult = { alreadyRunning: true; pid: number } | { alreadyRunning: false; seconds: number; pid: number };

const watchdogEntry = join(dirname(fileURLToPath(import.meta.url)), '../supervisor/watchdog.ts');

/** Varnish drops privileges: every ancestor of its work dir must be searchable by others. */
function traversableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      /* not created yet: mkdir gives 755 */
    }
    if (dirname(d) === d) return true;
  }
}

export async function regionUp(o: UpOptions): Promise<UpResult> {
  // One `tier up` at a time per state folder.
  const release = takeLockFile(statePaths(o.stateDir).upLock, (owner) => new RegionError(`another \`tier up\` (pid ${owner}) is starting this region: wait for it, or stop it`));
  try {
    return await upLocked(o);
  } finally {
    release();
  }
}

async function upLocked(o: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const d = o.definition;
  const probePaths = statePaths(o.stateDir);
  const sup = supervisorState(probePaths);
  if (sup?.running) return { alreadyRunning: true, pid: sup.pid };
  // A live watchdog is about to start a new supervisor (adopting the processes): nothing is left over.
  const wd = watchdogState(probePaths);
  if (wd?.running) return { alreadyRunning: true, pid: wd.supervisorPid ?? wd.pid };

  const leftovers = await stopLeftovers(probePaths);
  if (leftovers > 0) o.progress(`stopped ${leftovers} leftover process(es) of a previous run whose supervisor had died`);

  const taken = await takenPorts(portClaims(d), d.address);
  if (taken.length > 0) {
    const t = taken[0]!;
    const more = taken.length > 1 ? ` (and ${taken.length - 1} more: ${taken.slice(1).map((x) => x.port).join(', ')})` : '';
    throw new RegionError(`port ${t.port} for ${t.component} is already in use by another program on ${d.address}${more}: stop it, or move ${t.setting} in ${o.configFile}`);
  }

  // A port still held by a closing client connection frees itself within 60 s (TIME_WAIT).
  const busy = await portsBlockedByConnections(portClaims(d), d.address);
  if (busy.length > 0) {
    o.progress(`waiting for port(s) ${busy.map((b) => b.port).join(', ')}: held by client connections (ephemeral ports) until they close, at most ~60 s`);
    await waitUntil('ports held by client connections', async () => (await portsBlockedByConnections(busy, d.address)).length === 0, 90_000, 250)
      .catch(() => o.progress('some ports are still held by connections: starting anyway, components retry their bind'));
  }

  mkdirSync(probePaths.root, { recursive: true, mode: 0o755 });
  const varnishInTmp = !traversableByOthers(probePaths.root);
  const paths = statePaths(o.stateDir, varnishInTmp);
  for (const dir of [paths.config, paths.logs, paths.run, paths.data]) mkdirSync(dir, { recursive: true });
  if (varnishInTmp) o.progress(`${paths.root} is not reachable by the varnish users: Varnish's work dir is ${paths.varnishWorkdir}`);

  // Instances run the release of the sources (built first when this commit has none), never the sources.
  const tRelease = Date.now();
  const release = await ensureRelease(d, paths, { progress: o.progress }).catch((e: Error) => {
    throw new RegionError(`could not build or install the release of the current sources: ${e.message.split('\n')[0]}`);
  });
  setCurrentVersion(paths, release.version);
  o.progress(`instances run release ${release.version} (ready in ${((Date.now() - tRelease) / 1000).toFixed(1)} s)`);

  const plan: RegionPlan = { definition: d, stateDir: paths.root, varnishInTmp, configFile: o.configFile };
  writeFileAtomic(paths.plan, JSON.stringify(plan, null, 2) + '\n');

  // The watchdog starts the supervisor and relays its messages; it restarts it if it dies later.
  const child = spawnDaemon(process.execPath, ['--import', tsxLoaderPath(), watchdogEntry, paths.root], {
    logFile: paths.supervisorLog, cwd: repoRoot, env: { CONDUIT_SUPERVISOR: '1' },
  });
  o.progress(`watchdog started (pid ${child.pid}), it starts the supervisor; log: ${paths.supervisorLog}`);

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    // Ctrl-C while starting stops what was started (the supervisor is detached and would go on).
    const interrupt = () => {
      if (settled) return;
      settled = true;
      o.progress('interrupted: stopping what was started');
      try { process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ }
      child.once('exit', () => reject(new RegionError('interrupted: the region was stopped (`tier up` to start it again)')));
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const done = () => { process.off('SIGINT', interrupt); process.off('SIGTERM', interrupt); };
    child.once('exit', done);
    child.on('message', (m: SupervisorMessage) => {
      if (settled) return;
      if (m.type === 'progress') o.progress(m.line);
      else if (m.type === 'ready') { settled = true; done(); resolve(); }
      else if (m.type === 'failed') {
        settled = true;
        // The supervisor stops what it started, then exits: report once it has.
        const err = new RegionError(`the region did not come up: ${m.error}\n(everything it started was stopped; supervisor log: ${paths.supervisorLog})`);
        if (child.exitCode !== null || child.signalCode !== null) reject(err);
        else child.once('exit', () => reject(err));
      }
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new RegionError(`the supervisor exited while starting (${signal ?? `code ${code}`}); see ${paths.supervisorLog}`));
    });
  });
  recordHistory(paths, release, 'up', 'ok');
  child.removeAllListeners();
  if (child.connected) child.disconnect();
  child.unref();
  return { alreadyRunning: false, seconds: (Date.now() - t0) / 1000, pid: supervisorState(paths)?.pid ?? child.pid! };
}


/** The demo login the seed printed on the first start, if the region was seeded. */
export function demoLogin(stateDir: string): string | null {
  try {
    return /demo login: (.+)$/m.exec(readFileSync(statePaths(stateDir).seeded, 'utf8'))?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}
