// The supervisor daemon: the watchdog (watchdog.ts) starts it (node --import tsx daemon.ts <stateDir>).
// It brings the region up, owns every process, replaces crashed instances, runs the controllers,
// answers on its control socket, and on SIGTERM stops everything (SIGTERM, wait, SIGKILL per group).
// With --adopt (the watchdog restarting it after a crash) it brings nothing up: it takes over the
// processes processes.json lists as they are, and the controllers finish or undo the actions the
// journal shows interrupted.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { dbDataDir, dbRecloneRequest, dbSocket, statePaths, backupPaths } from '../paths.js';
import { readJson, readTopology, loadOrCreateSecrets } from '../state.js';
import { compactJournal, openEntries, type JournalEntry } from '../journal.js';
import { currentVersion } from '../releases.js';
import { cloneDataDir, queryNode, sentinelMasterPort, serveControl, type ControlRequest } from '../runner/index.js';
import { reconcileTopology } from '../specs/db.js';
import { regionSpecs, apiInstanceSpec, frontInstanceSpec, tsxLoaderPath, type SpecContext } from '../specs/processes.js';
import { startControllers } from '../controllers/load.js';
import { pinApi } from '../controllers/autoscaler.js';
import { Supervisor } from './supervisor.js';
import { bringUp } from './bring-up.js';
import { supervisorLogLine } from './log-line.js';
import { LOG_ROTATION_EVERY_MS, rotateLogs } from './log-rotation.js';
import { writeConfigs, writeDbConfig, writeDnsConfig, writeHaproxyConfig, writeRedisConfig } from './configs.js';
import { readPlan, type RegionPlan, type SupervisorMessage } from './plan.js';
import { corruptDataEvidence, needsNewCopy, recloneDecision } from './reclone.js';
import type { DbTopology, ProcessSpec, ProcessesFile } from '../types.js';

const stateDir = process.argv[2];
const adopting = process.argv[3] === '--adopt';
if (!stateDir) {
  process.stderr.write('usage: daemon.ts <stateDir> [--adopt]\n');
  process.exit(2);
}
let plan: RegionPlan;
try {
  plan = readPlan(statePaths(stateDir).plan);
} catch (e) {
  process.stderr.write(`supervisor: ${(e as Error).message}\n`);
  process.exit(2);
}
const paths = statePaths(stateDir, plan.varnishInTmp);
const log = (line: string) => process.stdout.write(supervisorLogLine(line));
const send = (m: SupervisorMessage) => {
  if (m.type === 'progress') log(m.line);
  if (m.type === 'failed') log(`supervisor: startup failed: ${m.error}`);
  if (process.connected) process.send?.(m);
};

const d = plan.definition;
const startVersion = currentVersion(paths);
if (!startVersion) {
  process.stderr.write(`supervisor: ${paths.currentRelease} missing: start the region with \`tier up\` (it installs the release)\n`);
  process.exit(2);
}
const ctx: SpecContext = { definition: d, paths, secrets: loadOrCreateSecrets(paths), version: startVersion, tsxLoader: tsxLoaderPath(), backups: backupPaths(d, plan.configFile) };
// A replacement HAProxy starts from a config regenerated from the current DB topology (the failover
// controller may have moved the primary) and the instances running now (some may have been added).
const sup: Supervisor = new Supervisor(paths, log, (spec, restart) => {
  if (spec.tier !== 'lb' || !restart) return;
  const active = sup.records().filter((r) => (r.tier === 'api' || r.tier === 'front') && r.pid !== null).map((r) => r.name);
  writeHaproxyConfig(ctx, reconcileTopology(d, readTopology(paths)), active);
}, (spec) => prepareStart(spec));
let stopControllers: (() => Promise<void>) | null = null;
let control: Server | null = null;
let shuttingDown = false;

/**
 * Spec by name: a known process, or an API/front slot (up to the tier's max) running `version` — by
 * default the region's current release (current.json: what `tier deploy` last rolled out), as an Auto
 * Scaling group launches from its launch template's version.
 */
function specFor(name: string, version?: string): ProcessSpec | undefined {
  const known = sup.spec(name);
  if (known && (version === undefined || known.version === version)) return known;
  const at = { ...ctx, version: version ?? currentVersion(paths) ?? ctx.version };
  const api = d.apiSlots.find((s) => s.name === name);
  if (api) return apiInstanceSpec(at, api);
  const front = d.frontSlots.find((s) => s.name === name);
  if (front) return frontInstanceSpec(at, front);
  return regionSpecs(ctx).find((s) => s.name === name);
}

async function startByName(name: string, version?: string): Promise<number> {
  const spec = specFor(name, version);
  if (!spec) throw new Error(`no process or slot named ${name}`);
  const said = await prepareStart(spec);
  if (said) log(said);
  return sup.start(spec);
}

/**
 * Before a data node starts again (asked for, or restarted after a crash), its config follows the
 * region as it is now; returns a sentence when it did something worth logging.
 * - Redis: restarted after a Sentinel failover, it rejoins as a replica of the current primary, instead of
 *   starting as a second primary until Sentinel notices (~10 s).
 * - MariaDB: its cnf for its role in the topology (a node still named primary must keep, during its crash
 *   recovery, what it acknowledged); a node whose data dir is gone (deleted, never initialised, moved aside)
 *   or corrupt (its last run died of it, in its log's words) is re-cloned from a running replica (else the
 *   primary), and the controller rejoins it from the copy; never the node still named the primary (reclone.ts).
 * - PowerDNS: its zone anew, with this start's warm-up deadline (SERVFAIL until its health checks have run).
 */
async function prepareStart(spec: ProcessSpec): Promise<string | null> {
  if (spec.tier === 'dns') {
    writeDnsConfig(ctx);
    return null;
  }
  const cache = d.cacheNodes.find((n) => n.name === spec.name);
  if (cache) {
    const ports = await Promise.all(d.sentinelNodes.map((s) => sentinelMasterPort(s.port, d.cacheMasterName, 1_000, d.address, ctx.secrets.sentinelPassword)));
    const current = ports.find((p): p is number => p !== null);
    writeRedisConfig(ctx, cache, current);
    return current !== undefined && current !== cache.port ? `${cache.name}: Sentinel reports the primary on :${current}: starting as its replica` : null;
  }
  const node = d.dbNodes.find((n) => n.name === spec.name);
  if (!node) return null;
  const t = readTopology(paths);
  writeDbConfig(ctx, node, t);
  const running = new Set(sup.records().filter((r) => r.pid !== null && r.state === 'running').map((r) => r.name));
  // A re-clone asked for by the failover controller is asked once: a failed clone leaves a dir with no system
  // tables, which asks again by itself.
  const request = dbRecloneRequest(paths, node);
  const requested = existsSync(request) ? readFileSync(request, 'utf8').trim() : null;
  rmSync(request, { force: true });
  const dataDir = { systemTables: existsSync(join(dbDataDir(paths, node), 'mysql')), corruption: corruptDataEvidence(logTail(spec.logFile)), requested };
  // The replicas' appliers are asked only when a copy is needed: not on every restart of a node.
  const r = recloneDecision(node.name, dataDir, t, running, needsNewCopy(dataDir) ? await stoppedAppliers(t, running) : new Set());
  if (r.kind === 'keep') return null;
  if (r.kind === 'refuse') return r.sentence;
  const t0 = Date.now();
  const gtid = await cloneDataDir(dbSocket(paths, { name: r.source }), dbDataDir(paths, node));
  return `${node.name}: ${r.why}: re-cloned from ${r.source} (mariadb-backup streamed, GTID ${gtid || 'empty'}, ${((Date.now() - t0) / 1000).toFixed(1)} s; the old dir kept as ${node.name}.broken-<time>); the failover controller rejoins it from there`;
}

/** Running replicas whose applier (SQL thread) is stopped: not a source for a copy. One that does not answer is not counted. */
async function stoppedAppliers(t: DbTopology | null, running: ReadonlySet<string>): Promise<Set<string>> {
  const out = new Set<string>();
  await Promise.all((t?.replicas ?? []).filter((n) => running.has(n)).map(async (name) => {
    const [s] = await queryNode<{ Slave_SQL_Running?: string }>(dbSocket(paths, { name }), 'SHOW SLAVE STATUS', 2_000).catch(() => []);
    if (s && s.Slave_SQL_Running !== 'Yes') out.add(name);
  }));
  return out;
}

/** The last 64 KiB of a log file ('' when there is none): enough for mariadbd's last start. */
function logTail(file: string, bytes = 64 * 1024): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function shutdown(signal: string, code = 0): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`supervisor: ${signal}: stopping the region (SIGTERM, wait, SIGKILL per process group)`);
  control?.close();
  await stopControllers?.().catch(() => undefined);
  await sup.stopAll();
  rmSync(paths.supervisorSocket, { force: true });
  rmSync(paths.supervisorPid, { force: true });
  log('supervisor: region stopped');
  process.exit(code);
}

async function handle(req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'list': return sup.records();
    case 'start': return { pid: await startByName(req.name, req.version) };
    case 'stop': return sup.stop(req.name);
    case 'forget': sup.forget(req.name); return null;
    case 'pin-api': return pinApi(paths, d, req.instances);
    default: throw new Error(`unknown op ${(req as { op: string }).op}`);
  }
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGHUP', () => undefined); // the terminal that ran `tier up` may close
process.on('uncaughtException', (e) => log(`supervisor: uncaught: ${e.stack ?? e.message}`));
process.on('unhandledRejection', (e) => log(`supervisor: unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));

async function main(): Promise<void> {
  const t0 = Date.now();
  writeFileSync(paths.supervisorPid, `${process.pid}\n`);
  log(`supervisor: pid ${process.pid}, region "${d.name}" from ${plan!.configFile}, state ${paths.root}`);
  const topology = reconcileTopology(d, readTopology(paths));
  writeConfigs(ctx, topology);
  send({ type: 'progress', line: `generated configs in ${paths.config}` });
  control = serveControl(paths.supervisorSocket, handle);
  try {
    await bringUp(sup, ctx, topology, (line) => send({ type: 'progress', line }));
  } catch (e) {
    send({ type: 'failed', error: (e as Error).message });
    await shutdown('startup failed', 1);
    return;
  }
  compactJournal(paths.actionJournal);
  run(openEntries(paths.actionJournal));
  send({ type: 'ready', seconds: (Date.now() - t0) / 1000 });
  if (process.connected) process.disconnect();
}

/** Liveness checks and the controllers, once every process is started or adopted. */
function run(interrupted: JournalEntry[]): void {
  sup.startLivenessChecks();
  // With the console on, it rotates the logs once it has indexed them; without it, the supervisor does.
  if (!d.observability.console) {
    const maxBytes = d.observability.logFileMaxMb * 1024 * 1024;
    setInterval(() => {
      const rotated = rotateLogs(paths.logs, maxBytes);
      if (rotated.length > 0) log(`supervisor: rotated ${rotated.join(', ')} at ${d.observability.logFileMaxMb} MB (observability.logFileMaxMb) into <name>.1`);
    }, LOG_ROTATION_EVERY_MS).unref();
  }
  stopControllers = startControllers({
    definition: d, stateDir: paths.root, paths, secrets: ctx.secrets, log, processes: () => sup.records(),
    start: (n) => startByName(n), stop: (n) => sup.stop(n), forget: (n) => sup.forget(n), specFor,
  }, { interrupted });
}

/** Restarted by the watchdog: no config is rewritten, no process restarted; what runs is taken over. */
async function adopt(): Promise<void> {
  const t0 = Date.now();
  writeFileSync(paths.supervisorPid, `${process.pid}\n`);
  log(`supervisor: pid ${process.pid}, restarted by the watchdog: adopting the region "${d.name}" as it runs (state ${paths.root})`);
  const file = readJson<ProcessesFile>(paths.processes);
  if (!file) {
    log(`supervisor: ${paths.processes} is missing or unreadable: nothing to adopt; stop the region (\`tier down\`) and start it again`);
    process.exit(2);
  }
  control = serveControl(paths.supervisorSocket, handle);
  const r = sup.adopt(file.processes, specFor);
  sup.watchAdopted();
  log(`supervisor: adopted ${r.adopted.length} running process(es)${r.replaced.length ? `; replacing ${r.replaced.join(', ')} (gone meanwhile)` : ''}${r.down.length ? `; down: ${r.down.join(', ')}` : ''}${r.unknown.length ? `; not in the plan: ${r.unknown.join(', ')}` : ''}`);
  compactJournal(paths.actionJournal);
  const interrupted = openEntries(paths.actionJournal);
  for (const e of interrupted) log(`supervisor: journal: ${e.controller} ${e.action} ${JSON.stringify(e.detail)} opened ${e.openedAt} by supervisor ${e.pid} was interrupted: the controller finishes or undoes it`);
  run(interrupted);
  log(`supervisor: took over in ${Date.now() - t0} ms`);
}

if (!existsSync(paths.root)) {
  process.stderr.write(`supervisor: state folder ${paths.root} missing\n`);
  process.exit(2);
} else if (adopting) void adopt();
else void main();
