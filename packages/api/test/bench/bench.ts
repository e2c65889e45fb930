// `npm run bench:api`: a benchmark that prints figures (not a test).
// Starts a throwaway MariaDB and Redis (testkit), migrates and seeds them, starts the API in its own
// process on 127.0.0.1, and measures with autocannon, in one run:
//   the ceiling (a bare hello route of the same server), anonymous GET /api/articles (cached),
//   authenticated GET /api/articles, GET /api/articles/:slug, POST /api/articles/:slug/comments.
// Bounded in time: every phase has a fixed duration and the whole run a hard deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import autocannon, { type Result } from 'autocannon';
import { startRedis, stopProcess, type ServerHandle } from '@conduit/testkit';
import { startMariaDbReliably as startMariaDb } from '../mariadb.js';
import { migrate } from '../../src/db/migrate.js';
import { DEMO_PASSWORD, seed } from '../../src/db/seed.js';
import { feedArticleIds, listArticleIds, loadArticles } from '../../src/db/articles.js';
import mysql from 'mysql2/promise';
import { bulkLoad } from '../scale-data.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const state = join(root, '.test-state', 'api-bench');
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** BENCH_SCALE=1000000: also bulk-load that many articles and time the uncached list/feed queries. */
const SCALE = Number(process.env.BENCH_SCALE ?? 0);
const DEADLINE_MS = SCALE > 0 ? 900_000 : 240_000;

const deadline = setTimeout(() => {
  process.stderr.write(`bench: deadline of ${DEADLINE_MS / 1000} s passed, aborting\n`);
  process.exit(2);
}, DEADLINE_MS);
deadline.unref();

interface Summary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time of the API process / of Redis per request, in microseconds. */
  apiCpuUs: number;
  redisCpuUs: number;
}

interface Measured {
  r: Result;
  apiTicks: number;
  redisTicks: number;
}

let db: ServerHandle | undefined;
let redis: ServerHandle | undefined;
let server: ChildProcess | undefined;

async function main(): Promise<void> {
  process.stderr.write('bench: starting MariaDB and Redis...\n');
  [db, redis] = await Promise.all([
    startMariaDb({ port: 28406, dir: join(state, 'mariadb'), database: 'conduit_bench' }),
    startRedis({ port: 29479, dir: join(state, 'redis') }),
  ]);
  const dbUrl = `mysql://root@127.0.0.1:${db.port}/conduit_bench`;
  await migrate(dbUrl);
  const seeded = await seed(dbUrl);
  process.stderr.write(`bench: seeded ${seeded.users} users, ${seeded.articles} articles\n`);
  const scaleLines = SCALE > 0 ? await scaleCheck(dbUrl) : [];

  server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_WRITER_URL: dbUrl,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      PORT: '0',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      RATE_LIMIT_AUTH_PER_MIN: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    server!.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    server!.once('exit', (code) => rej(new Error(`bench server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;

  const login = await fetch(`${base}/api/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } }),
  });
  const token = ((await login.json()) as { user: { token: string } }).user.token;
  const auth = { authorization: `Token ${token}` };
  const list = (await (await fetch(`${base}/api/articles?limit=1`)).json()) as { articles: { slug: string }[] };
  const slug = list.articles[0]!.slug;

  const phases: { name: string; opts: Parameters<typeof autocannon>[0] }[] = [
    { name: 'ceiling: GET /bench/hello (bare route, same server)', opts: { url: `${base}/bench/hello` } },
    { name: 'GET /api/articles (anonymous, cached)', opts: { url: `${base}/api/articles` } },
    { name: 'GET /api/articles (authenticated)', opts: { url: `${base}/api/articles`, headers: auth } },
    { name: 'GET /api/articles/:slug (anonymous, cached)', opts: { url: `${base}/api/articles/${slug}` } },
    { name: 'GET /api/articles/:slug (authenticated)', opts: { url: `${base}/api/articles/${slug}`, headers: auth } },
    {
      name: 'POST /api/articles/:slug/comments',
      opts: { url: `${base}/api/articles/${slug}/comments`, method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ comment: { body: 'Benchmark comment' } }) },
    },
  ];

  // The ceiling and the anonymous list are measured in alternation (ROUNDS short rounds each) so that
  // noise from other processes on the machine hits both alike: rps is the mean of the rounds, p50/p99
  // the median, and the ratio the median of the per-round ratios. The other endpoints are measured once.
  // CPU time per request of the API process and of Redis (from /proc) is reported too: unlike rps it
  // does not depend on what else the machine is doing.
  const ROUNDS = 4;
  const roundSeconds = Math.max(2, Math.round(DURATION / 4));
  const cpu = (pid: number | undefined) => {
    if (pid === undefined) return 0;
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
  };
  const run = async (opts: Parameters<typeof autocannon>[0], seconds: number): Promise<Measured> => {
    await autocannon({ ...opts, connections: CONNECTIONS, duration: 1 }); // warm-up, not measured
    const before = [cpu(server!.pid), cpu(redis!.pid)];
    const r = await autocannon({ ...opts, connections: CONNECTIONS, duration: seconds, timeout: 10 });
    return { r, apiTicks: cpu(server!.pid) - before[0]!, redisTicks: cpu(redis!.pid) - before[1]! };
  };
  const paired: Measured[][] = [[], []];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    for (const k of [0, 1]) {
      const m = await run(phases[k]!.opts, roundSeconds);
      paired[k]!.push(m);
      process.stderr.write(`bench: ${phases[k]!.name} (round ${i + 1}): ${Math.round(m.r.requests.average)} rps\n`);
    }
    ratios.push(paired[1]![i]!.r.requests.average / paired[0]![i]!.r.requests.average);
  }
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const combine = (ms: Measured[]): Summary => {
    const requests = ms.reduce((s, m) => s + m.r.requests.total, 0);
    return {
      rps: ms.reduce((s, m) => s + m.r.requests.average, 0) / ms.length,
      p50: median(ms.map((m) => m.r.latency.p50)),
      p99: median(ms.map((m) => m.r.latency.p99)),
      non2xx: ms.reduce((s, m) => s + m.r.non2xx, 0),
      errors: ms.reduce((s, m) => s + m.r.errors + m.r.timeouts, 0),
      apiCpuUs: (ms.reduce((s, m) => s + m.apiTicks, 0) * 10_000) / Math.max(1, requests),
      redisCpuUs: (ms.reduce((s, m) => s + m.redisTicks, 0) * 10_000) / Math.max(1, requests),
    };
  };
  const results: { name: string; r: Summary }[] = [
    { name: phases[0]!.name, r: combine(paired[0]!) },
    { name: phases[1]!.name, r: combine(paired[1]!) },
  ];
  for (const p of phases.slice(2)) {
    const m = await run(p.opts, DURATION);
    results.push({ name: p.name, r: combine([m]) });
    process.stderr.write(`bench: ${p.name}: ${Math.round(m.r.requests.average)} rps\n`);
  }

  const ratio = median(ratios);
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    '',
    `Conduit API benchmark: ${CONNECTIONS} connections, autocannon, 127.0.0.1, Node ${process.version}, log level ${process.env.BENCH_LOG_LEVEL ?? 'info'};`,
    `ceiling and anonymous list: ${ROUNDS} alternating rounds of ${roundSeconds} s each; other endpoints: ${DURATION} s`,
    `${pad('endpoint', 52)} ${pad('rps', 7)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('non-2xx', 8)} ${pad('errors', 7)} ${pad('API CPU us/req', 15)} Redis CPU us/req`,
    ...results.map(({ name, r }) =>
      `${pad(name, 52)} ${pad(String(Math.round(r.rps)), 7)} ${pad(String(r.p50), 7)} ${pad(String(r.p99), 7)} ${pad(String(r.non2xx), 8)} ${pad(String(r.errors), 7)} ${pad(r.apiCpuUs.toFixed(0), 15)} ${r.redisCpuUs.toFixed(0)}`),
    `machine load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} cores): rps compare only within one run`,
    '',
    `anonymous cached list / ceiling = ${(ratio * 100).toFixed(0)}% (median of the per-round ratios ${ratios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; goal: at least 60%)`,
    `API CPU per request, anonymous cached list / ceiling = ${(results[1]!.r.apiCpuUs / results[0]!.r.apiCpuUs).toFixed(2)}x`,
    '',
    ...scaleLines,
  ];
  process.stdout.write(lines.join('\n'));
}

/** Bulk-loads SCALE articles and times each uncached list/feed query (median of 5 runs). */
async function scaleCheck(dbUrl: string): Promise<string[]> {
  const pool = mysql.createPool({ uri: dbUrl, connectionLimit: 2 });
  try {
    const t0 = Date.now();
    const info = await bulkLoad(pool, SCALE);
    process.stderr.write(`bench: bulk-loaded ${SCALE} articles in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const none = { tag: null, author: null, favorited: null };
    const cases: [string, () => Promise<unknown>][] = [
      ['global list, page 1 (ids + count)', () => listArticleIds(pool, none, 20, 0)],
      ['global list, offset 10000', () => listArticleIds(pool, none, 20, 10_000)],
      ['tag filter, page 1', () => listArticleIds(pool, { ...none, tag: info.tag }, 20, 0)],
      ['author filter, page 1', () => listArticleIds(pool, { ...none, author: info.author }, 20, 0)],
      ['favorited filter, page 1', () => listArticleIds(pool, { ...none, favorited: info.reader.username }, 20, 0)],
      ['tag + author, page 1', () => listArticleIds(pool, { ...none, tag: info.tag, author: info.author }, 20, 0)],
      ['feed (follows 20 authors), page 1', () => feedArticleIds(pool, info.reader.id, 20, 0)],
      ['load 20 articles by id (rows + tags)', async () => loadArticles(pool, (await listArticleIds(pool, none, 20, 0)).ids, { withBody: false })],
    ];
    const [[n]] = (await pool.query('SELECT COUNT(*) AS n FROM articles')) as unknown as [[{ n: number }]];
    const lines = [`uncached queries at ${n.n} articles (median of 5, ms):`];
    for (const [name, fn] of cases) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await fn();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      lines.push(`  ${name.padEnd(40)} ${times[2]!.toFixed(1)}`);
    }
    return [...lines, ''];
  } finally {
    await pool.end();
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  if (server) await stopProcess(server, 5_000);
  await Promise.all([db?.stop(), redis?.stop()]);
  clearTimeout(deadline);
}
