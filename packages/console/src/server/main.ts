// The console process: `node --import tsx packages/console/src/server/main.ts <stateDir>` (the supervisor
// starts it like any other process). Reads the plan `tier up` wrote, indexes logs/ every second, samples
// the region status every 2 s, prunes the index to observability.logRetentionDays, and serves the page
// on 127.0.0.1:local.ports.console.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { regionStatus, statePaths, type RegionPlan, type RegionStatus } from '@conduit/local';
import { LogIndex } from '../logs/index-db.js';
import { LogTailer } from '../logs/tailer.js';
import { componentOf } from '../logs/parse.js';
import { AlertStore } from './alerts.js';
import { buildConsole } from './app.js';
import { SampleSeries } from './metrics.js';

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

const index = await LogIndex.open(join(paths.data, 'console', 'logs.duckdb'));
const tailer = new LogTailer(index, paths.logs, (n) => componentOf(n, d), d.observability.logFileMaxMb * 1024 * 1024);
const alerts = new AlertStore(join(paths.logs, 'alerts.jsonl'));
// Replica lag for the chart: Prometheus here scrapes the primary only; `tier status` asks every replica.
const samples = new SampleSeries(6 * 3600);
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

every(1_000, 'log tailer', () => tailer.poll());
every(600_000, 'retention', async () => {
  const n = await index.prune(d.observability.logRetentionDays);
  if (n > 0) log('info', `retention: removed ${n} log lines older than ${d.observability.logRetentionDays} days (observability.logRetentionDays)`);
});
every(2_000, 'status', async () => {
  latest = await regionStatus(d, paths.root);
  const lag: Record<string, number> = {};
  for (const p of latest.processes) {
    const m = p.tier === 'db' && p.role === 'replica' ? /lag (\d+) s/.exec(p.detail ?? '') : null;
    if (m) lag[p.name] = Number(m[1]);
  }
  samples.add(Math.floor(Date.now() / 1000), lag);
});

const app = buildConsole({
  definition: d, index, alerts, samples,
  status: () => latest,
  prometheusUrl: `http://${d.address}:${d.local.ports.prometheus}`,
});
await app.listen({ host: d.address, port: d.local.ports.console });
log('info', `console listening on http://${d.address}:${d.local.ports.console}/ (state ${paths.root})`);

const stop = async (signal: string) => {
  log('info', `${signal}: stopping`);
  await app.close();
  index.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
