// The region bootstrap, in dependency order: data nodes → replication (semi-sync AFTER_SYNC on the
// primary only, replicas read_only) → migrations once through the writer, seed on first start →
// API instances. Independent components start in parallel; waiting is polling with deadlines.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { regionSpecs, dbInitCommand, databaseUrls, tsxLoaderPath, type SpecContext } from '../specs/processes.js';
import { replicationSteps, restoredGtidSteps, type SqlStep } from '../specs/db.js';
import { dbDataDir, dbSocket, releaseTierDir, repoRoot } from '../paths.js';
import { ensureRegionTls, haproxyServers, probe, queryNode, runOnce, runSql, waitUntil } from '../runner/index.js';
import { BACKENDS } from '../generators/haproxy.js';
import { readJson, readRegionRole, writeRegionRole, writeTopology } from '../state.js';
import { FENCED_WHY } from '../controllers/region-failover.js';
import { recordRejoin, rejoinedRole, rewindToWriter, writerBinlogState } from '../region/rejoin.js';
import type { Supervisor } from './supervisor.js';
import type { DbTopology, ProcessSpec, RegionRole } from '../types.js';

export type Progress = (line: string) => void;

const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function logTail(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Resolves when the spec's probe passes. A process that exits while starting is started again until
 * the deadline (a "replace" process is restarted by the supervisor itself): ports above 32767 are
 * also the kernel's ephemeral range, and a closing client connection may hold one for up to 60 s.
 * At the deadline it fails with the log's tail.
 */
export async function waitReady(sup: Supervisor, spec: ProcessSpec, timeoutMs: number, progress: Progress = () => undefined): Promise<void> {
  let restarts = 0;
  try {
    await waitUntil(`${spec.name} (${spec.tier}) on ${spec.host}:${spec.port}`, async () => {
      const rec = sup.records().find((r) => r.name === spec.name);
      if (rec?.state === 'stopped') throw new Error(`${spec.name} was stopped while starting`);
      if (rec?.state === 'exited') {
        restarts += 1;
        progress(`${spec.name} ${rec.lastExit ?? 'exited'} while starting: starting it again (${restarts})`);
        await new Promise((r) => setTimeout(r, Math.min(250 * restarts, 2_000)));
        sup.start(spec);
        return false;
      }
      if (rec?.state === 'restarting') return false;
      return probe(spec.probe, spec.port, 500, spec.host);
    }, timeoutMs, 50);
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${spec.logFile} ends with:\n${logTail(spec.logFile)}`);
  }
}

async function runSteps(ctx: SpecContext, steps: SqlStep[]): Promise<void> {
  const byName = new Map(ctx.definition.dbNodes.map((n) => [n.name, n]));
  // A node may still be finishing its start: connection failures are retried for a few seconds.
  await Promise.all(steps.map((s) => runSql(dbSocket(ctx.paths, byName.get(s.node)!), s.node, s.sql, { timeoutMs: 30_000, retryMs: 5_000 })));
}

export async function bringUp(sup: Supervisor, ctx: SpecContext, topology: DbTopology, progress: Progress): Promise<void> {
  const t0 = Date.now();
  const d = ctx.definition;
  const specs = regionSpecs(ctx);
  const migrateScript = join(releaseTierDir(ctx.paths, ctx.version, 'api'), 'migrate.mjs');
  if (!existsSync(migrateScript)) throw new Error(`${migrateScript} not found: release ${ctx.version} is not installed (\`tier up\` installs it)`);

  // 1. Everything that needs nothing else starts at once: Sentinels and cache, load balancers,
  //    front, edge, monitoring. Meanwhile new MariaDB nodes get their data directories.
  const stage0 = specs.filter((s) => s.stage === 0);
  const nonDb = stage0.filter((s) => s.tier !== 'db');
  const dbSpecs = stage0.filter((s) => s.tier === 'db');
  for (const s of nonDb) sup.start(s);
  progress(`started ${nonDb.length} processes: ${summarize(nonDb)}`);
  const others = Promise.all(nonDb.map((s) => waitReady(sup, s, 30_000, progress)));
  others.catch(() => undefined); // observed below

  // The database's TLS files first (once per region): every node's my.cnf points at them.
  if (await ensureRegionTls(ctx.paths, d.address)) progress(`generated the database TLS CA and server certificate in ${ctx.paths.tls.dir}`);
  const fresh = d.dbNodes.filter((n) => !existsSync(join(dbDataDir(ctx.paths, n), 'mysql')));
  if (fresh.length > 0) {
    progress(`initializing ${fresh.length} MariaDB data dir(s): ${fresh.map((n) => n.name).join(', ')}`);
    await Promise.all(fresh.map((n) => {
      const c = dbInitCommand(ctx, n);
      return runOnce(c.command, c.args);
    }));
  }

  // 2. The database nodes, every one read-only until the bootstrap opens the primary.
  for (const s of dbSpecs) sup.start(s);
  await Promise.all(dbSpecs.map((s) => waitReady(sup, s, 30_000, progress)));
  progress(`${dbSpecs.length} database nodes accept connections (${secs(t0)})`);

  // 2b. Nodes just given a restored dataset (`tier restore`) start from its GTID position.
  const restored = readJson<{ gtid: string }>(ctx.paths.restoreMarker);
  if (restored) {
    await runSteps(ctx, restoredGtidSteps(d, topology, restored.gtid));
    progress(`restored dataset: ${topology.primary}'s binlog continues at GTID ${restored.gtid || '(empty)'}, replicas start from it`);
  }

  // 3. Replication: users everywhere (local), the primary writable with semi-sync, replicas on GTID.
  //    A standby region's primary instead replicates from the other region's writer (read-only).
  const role = readRegionRole(ctx.paths);
  const upstream = role?.role === 'standby' ? role.upstream : null;
  const steps = replicationSteps(d, topology, ctx.secrets, hostname(), upstream);
  await runSteps(ctx, steps.filter((s) => s.kind === 'users'));
  // A standby whose data dirs were all just initialized holds nothing of its own: nothing to compare.
  if (role?.role === 'standby' && upstream && fresh.length < d.dbNodes.length) await rejoinAtStart(role, upstream);
  await runSteps(ctx, steps.filter((s) => s.kind === 'primary'));
  await runSteps(ctx, steps.filter((s) => s.kind === 'replica'));
  writeTopology(ctx.paths, { ...topology, updatedAt: new Date().toISOString() });
  const nodes = new Map(d.dbNodes.map((n) => [n.name, n]));
  await Promise.all(topology.replicas.map(async (r) => {
    let lastIoError = '';
    await waitUntil(`replica ${r} replicating from ${topology.primary}`, async () => {
      const [st] = await queryNode<Record<string, string>>(dbSocket(ctx.paths, nodes.get(r)!), 'SHOW SLAVE STATUS');
      // An SQL-thread error is fatal (diverged data); an I/O error is retried every second by the replica.
      if (st?.Last_SQL_Error) throw new Error(`replica ${r}: ${st.Last_SQL_Error}`);
      lastIoError = st?.Last_IO_Error ?? '';
      return st?.Slave_IO_Running === 'Yes' && st?.Slave_SQL_Running === 'Yes';
    }, 15_000, 100).catch((e: Error) => {
      throw new Error(lastIoError ? `${e.message}; last I/O error: ${lastIoError}` : e.message);
    });
  }));
  if (restored) rmSync(ctx.paths.restoreMarker, { force: true });
  progress(upstream
    ? `replication: ${topology.primary} replicates from the other region's writer ${upstream.host}:${upstream.port} (asynchronous, read-only), ${topology.replicas.join(', ') || 'no replica'} from it (${secs(t0)})`
    : `replication: ${topology.primary} primary (read-write, semi-sync AFTER_SYNC), ${topology.replicas.join(', ') || 'no replica'} read-only (${secs(t0)})`);

  /**
   * A standby region that returns (the failback): what it holds that the writer region never received is saved
   * and undone first (region/rejoin.ts), and a region fenced by a region failover records its rejoin with a new
   * cache generation (its Redis and Varnish start empty here: nothing older is served).
   */
  async function rejoinAtStart(r: RegionRole, up: { host: string; port: number }): Promise<void> {
    if (!r.peerStateDir) return;
    const writerState = await writerBinlogState(r.peerStateDir).catch(() => null);
    if (writerState === null) {
      progress(`standby region: the writer region's database did not answer: ${topology.primary} replicates from where it is`);
      return;
    }
    const rewind = await rewindToWriter(d, ctx.paths, topology, writerState);
    progress(rewind.sentence);
    if (rewind.rewound.length > 0 || r.why.startsWith(FENCED_WHY)) {
      const writer = d.local.region === 'secondary' ? d.regions.primary : d.regions.secondary!;
      const rejoined = rejoinedRole(r, up, writer, rewind);
      writeRegionRole(ctx.paths, rejoined);
      recordRejoin(ctx.paths, rejoined, rewind);
    }
  }

  // 4. The API tier and the exporter whose user was just created start now; migrations run once
  //    through the writer endpoint meanwhile (instances only turn ready once the database answers),
  //    then the demo seed on first start.
  const stage1 = specs.filter((s) => s.stage === 1);
  for (const s of stage1) sup.start(s);
  progress(`started ${stage1.length} processes: ${summarize(stage1)}`);
  const apiReady = Promise.all(stage1.map((s) => waitReady(sup, s, 60_000, progress)));
  apiReady.catch(() => undefined); // observed below

  await waitUntil('writer endpoint routes to the primary', async () => {
    const servers = await haproxyServers(ctx.paths.haproxySocket, BACKENDS.dbWriter).catch(() => []);
    return servers.some((s) => s.name === topology.primary && s.up);
  }, 15_000, 50);
  const urls = databaseUrls(d, ctx.secrets);
  // The app user is REQUIRE SSL: every app login verifies the region's CA, as on Aurora.
  const env = { DATABASE_WRITER_URL: urls.writer, DATABASE_TLS_CA: ctx.paths.tls.ca };
  // A standby gets its schema and data from the other region by replication: nothing to migrate or seed here.
  if (upstream) progress('standby region: schema and data arrive by replication (no migration, no seed here)');
  else await migrateAndSeed();
  async function migrateAndSeed(): Promise<void> {
    // The release's own migrate.mjs, as the deploy step runs it; the demo seed is a development tool
    // (not part of a release), run from the sources.
    const migrateOut = (await runOnce(process.execPath, [migrateScript], { env, cwd: releaseTierDir(ctx.paths, ctx.version, 'api') })).trim();
    progress(`${migrateOut} (release ${ctx.version}, ${secs(t0)})`);
    if (d.local.seed && !existsSync(ctx.paths.seeded)) {
      const seedOut = (await runOnce(process.execPath, ['--import', ctx.tsxLoader ?? tsxLoaderPath(), join(repoRoot, 'packages/api/src/commands/seed.ts')], { env, cwd: repoRoot })).trim();
      writeFileSync(ctx.paths.seeded, `${new Date().toISOString()} ${seedOut}\n`);
      progress(`${seedOut} (${secs(t0)})`);
    }
  }

  await others;
  progress(`load balancers, front, edge, cache and monitoring ready (${secs(t0)})`);
  await apiReady;
  progress(`API instances ready (${secs(t0)})`);

  // 5. The barrier that matters to a client: the load balancers see every started instance healthy
  //    (an ALB target passing its health checks), so the first request through the edge succeeds.
  for (const tier of ['front', 'api'] as const) {
    const backend = BACKENDS[tier];
    const names = specs.filter((s) => s.tier === tier).map((s) => s.name);
    await waitUntil(`HAProxy ${backend} sees ${names.join(', ')} up`, async () => {
      const servers = await haproxyServers(ctx.paths.haproxySocket, backend).catch(() => []);
      return names.every((n) => servers.some((s) => s.name === n && s.up));
    }, 30_000, 100);
  }
  progress(`load balancers route to every instance (${secs(t0)})`);
}

function summarize(specs: ProcessSpec[]): string {
  const byTier = new Map<string, number>();
  for (const s of specs) byTier.set(s.tier, (byTier.get(s.tier) ?? 0) + 1);
  return [...byTier].map(([t, n]) => `${n} ${t}`).join(', ');
}
