// The console process, run from its bundle: `node packages/console/bin/console.mjs <stateDir>` (the supervisor
// starts it like any other process; bin/console.mjs builds dist/ with esbuild when the sources changed).
// Reads the plan `tier up` wrote, has logs/ indexed every INGEST_EVERY_MS, samples the region status every
// 2 s, prunes the index to observability.logRetentionDays, and serves the page on 127.0.0.1:local.ports.console.
//
// Memory: the two big libraries never stay loaded here. DuckDB lives in the log worker (logs-worker.mjs),
// started for an ingest or a search and ended when idle; the ELK layout runs in a child (layout.mjs) once
// per shape of the region. This process keeps Fastify, the status clients and the decisions of the last days.
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { regionStatus, statePaths, type RegionPlan, type RegionStatus } from '@conduit/local/console-reads';
import { LogWorkerClient } from '../logs/worker-client.js';
import type { LogHit } from '../logs/index-db.js';
import type { TopologyGraph, TopologyLayout } from '../topology/index.js';
import { AlertStore } from './alerts.js';
import { buildConsole } from './app.js';
import { runJsonChild } from './child.js';
import { ProcessMetrics } from './process-metrics.js';

/** How often the log worker indexes what logs/ gained (a search catches up first anyway). */
const INGEST_EVERY_MS = 15_000;
/** The bundle's folder: the worker entries sit beside this file (dist/), the page in ../public. */
const here = dirname(fileURLToPath(import.meta.url));

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: main.ts <stateDir>\n');
  process.exit(2);
}
const paths = statePaths(stateDir);
let plan: RegionPlan;
try {
  plan = JSON.parse(readFileSync(paths.plan, 'utf8')) as RegionPlan;
} catch (e) {
  process.stderr.write(`console: cannot read the plan ${paths.plan} (${(e as Error).message}): start the region with \`tier up\`\n`);
  process.exit(2);
}
const d = plan.definition;
const log = (level: string, msg: string) => process.stdout.write(JSON.stringify({ level, time: new Date().toISOString(), msg }) + '\n');

const worker = new LogWorkerClient(join(here, 'logs-worker.mjs'), [paths.root], ['--max-semi-space-size=1', '--max-old-space-size=64', '--jitless', '--no-expose-wasm']);
/** The controllers' decisions of the last 7 days, as the last ingest found them (newest first). */
let decisions: LogHit[] = [];
const alerts = new AlertStore(join(paths.logs, 'alerts.jsonl'));
// CPU and memory per process, and replica lag (Prometheus here scrapes the primary only; `tier status`
// asks every replica), exported on /metrics for Prometheus.
const processMetrics = new ProcessMetrics();
let latest: RegionStatus | null = null;

/** Runs `tick` every `ms`, never overlapping itself; errors are logged, not fatal. */
const every = (ms: number, name: string, tick: () => Promise<unknown>) => {
  const run = async () => {
    try {
      await tick();
    } catch (e) {
      log('error', `${name}: ${(e as Error).message}`);
    }
    setTimeout(run, ms).unref();
  };
  void run();
};

every(INGEST_EVERY_MS, 'log index', async () => {
  decisions = (await worker.ingest()).decisions;
});
every(600_000, 'retention', async () => {
  const n = await worker.prune(d.observability.logRetentionDays);
  if (n > 0) log('info', `retention: removed ${n} log lines older than ${d.observability.logRetentionDays} days (observability.logRetentionDays)`);
});
every(2_000, 'status', async () => {
  latest = await regionStatus(d, paths.root);
  const lag: Record<string, number> = {};
  for (const p of latest.processes) {
    const m = p.tier === 'db' && p.role === 'replica' ? /lag (\d+) s/.exec(p.detail ?? '') : null;
    if (m) lag[p.name] = Number(m[1]);
  }
  processMetrics.sample(latest.processes, lag, Date.now(), latest.backupVerify);
});

const app = buildConsole({
  definition: d, alerts,
  metrics: () => processMetrics.render(),
  index: {
    search: (q) => worker.search(q),
    decisions: async (from, to) => decisions.filter((x) => x.ts >= from && x.ts < to).slice(0, 50),
  },
  layout: (graph: TopologyGraph) => runJsonChild<TopologyLayout>(join(here, 'layout.mjs'), graph),
  publicDir: join(here, '..', 'public'),
  status: () => latest,
  prometheusUrl: `http://${d.address}:${d.local.ports.prometheus}`,
});
await app.listen({ host: d.address, port: d.local.ports.console });
log('info', `console listening on http://${d.address}:${d.local.ports.console}/ (state ${paths.root})`);

const stop = async (signal: string) => {
  log('info', `${signal}: stopping`);
  await app.close();
  await worker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
