// `npm run bench:api`: a benchmark that prints figures (not a test).
// One API instance running the RELEASE bundle (`tier release`, unpacked as an instance installs it) with
// its production logging (LOG_LEVEL=info, access log on stdout to a file), against a throwaway MariaDB
// primary + 2 semi-sync replicas and Redis (bench/stand.ts). Every figure is printed next to the bare
// node:http ceiling measured in the same run (the machine is shared and noisy: compare only within a run).
//   closed model (wrk, BENCH_CONNECTIONS connections): the ceiling, GET /health/live, the cached anonymous
//     list page and article, the authenticated list and feed, POST a comment (writer, semi-sync, 2 replicas);
//   open model (constant arrival rate, no coordinated omission): POST a comment at half the closed-model rate;
//   the instance's peak RSS under this load; semi-sync acknowledged commits; access log lines written;
//   the default region's API tier: the cached list through its API load balancer (HAProxy, the region's
//     generated section) against one of its instances directly.
// Bounded in time: every phase has a fixed duration and the whole run a hard deadline; everything started
// is stopped at the end. BENCH_RELEASE=path/to/api/current.tar.gz benches a given artifact (e.g. an older one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import mysql from 'mysql2/promise';
import { percentile, runLoad } from '@conduit/drills';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import { feedArticleIds, listArticleIds, loadArticles } from '../../src/db/articles.js';
import { bulkLoad } from '../scale-data.js';
import { buildAndUnpackRelease, cpuTicks, root, rssMb, startCeiling, startInstance, startLoadBalanced, startStand, type Instance, type LoadBalanced, type Stand } from './stand.js';
import { assertWrk, runWrk, type WrkOptions, type WrkResult } from './wrk.js';

const state = join(root, '.test-state', 'api-bench');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** BENCH_SCALE=1000000: also bulk-load that many articles and time the uncached list/feed queries. */
const SCALE = Number(process.env.BENCH_SCALE ?? 0);
const DEADLINE_MS = SCALE > 0 ? 900_000 : 420_000;
const RSS_GOAL_MB = 120;

const deadline = setTimeout(() => {
  process.stderr.write(`bench: deadline of ${DEADLINE_MS / 1000} s passed, aborting\n`);
  process.exit(2);
}, DEADLINE_MS);
deadline.unref();

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** rps / the ceiling's rps (null for rows that are not compared with it). */
  ratio: number | null;
  goal: string;
  ok: boolean | null;
  non2xx: number;
  errors: number;
  cpuUs: number | null;
}

let stand: Stand | undefined;
let ceiling: Instance | undefined;
let instance: Instance | undefined;
let region: LoadBalanced | undefined;

/** database.durability on every node of the stand, at runtime (both variables are dynamic). */
async function setDurability(s: Stand, durability: 'full' | 'relaxed'): Promise<void> {
  const [binlog, redo] = durability === 'full' ? [1, 1] : [0, 2];
  for (const node of [s.dbs.primary, ...s.dbs.replicas]) {
    const c = await mysql.createConnection({ host: '127.0.0.1', port: node.port, user: 'root' });
    await c.query(`SET GLOBAL sync_binlog = ${binlog}, GLOBAL innodb_flush_log_at_trx_commit = ${redo}`);
    await c.end();
  }
}

async function main(): Promise<void> {
  assertWrk();
  const dir = buildAndUnpackRelease(state);
  stand = await startStand(state);
  const scaleLines = SCALE > 0 ? await scaleCheck(stand.writerUrl) : [];
  ceiling = await startCeiling();
  instance = await startInstance(dir, stand, state);
  const inst = instance;
  const idleRss = rssMb(inst.pid);
  let peakRss = idleRss;
  const rssTimer = setInterval(() => { try { peakRss = Math.max(peakRss, rssMb(inst.pid)); } catch { /* exited */ } }, 100);

  const login = await fetch(`${inst.base}/api/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } }),
  });
  const token = ((await login.json()) as { user: { token: string } }).user.token;
  const auth = { authorization: `Token ${token}` };
  const slug = ((await (await fetch(`${inst.base}/api/articles?limit=1`)).json()) as { articles: { slug: string }[] }).articles[0]!.slug;
  const comment = { method: 'POST' as const, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ comment: { body: 'Benchmark comment' } }) };
  const sent = { requests: 3 };

  const measure = async (o: Omit<WrkOptions, 'connections' | 'threads' | 'seconds'>, seconds = DURATION, pid = inst.pid): Promise<{ r: WrkResult; cpuUs: number }> => {
    const before = cpuTicks(pid);
    const r = await runWrk({ ...o, connections: CONNECTIONS, threads: 2, seconds });
    if (pid === inst.pid) sent.requests += r.requests;
    return { r, cpuUs: ((cpuTicks(pid) - before) * 10_000) / Math.max(1, r.requests) };
  };
  const targets: { name: string; goal: number | null; o: Omit<WrkOptions, 'connections' | 'threads' | 'seconds'> }[] = [
    { name: 'GET /health/live (trivial route)', goal: 0.7, o: { url: `${inst.base}/health/live` } },
    { name: 'GET /api/articles (anonymous, cached)', goal: 0.5, o: { url: `${inst.base}/api/articles` } },
    { name: 'GET /api/articles/:slug (anonymous, cached)', goal: 0.5, o: { url: `${inst.base}/api/articles/${slug}` } },
    { name: 'GET /api/articles (authenticated)', goal: 0.2, o: { url: `${inst.base}/api/articles`, headers: auth } },
    // per user, never cached as a page: ids, count, rows and tags from the database (the viewer's flags are not)
    { name: 'GET /api/articles/feed (authenticated)', goal: null, o: { url: `${inst.base}/api/articles/feed`, headers: auth } },
  ];

  // Warm-up (JIT, caches, pools), not measured.
  for (const t of targets) await measure(t.o, 1);
  await measure({ url: ceiling.base }, 1, ceiling.pid);
  // Rounds: the ceiling, then each endpoint; each endpoint's share is its mean rps over the mean ceiling.
  const ceilings: { r: WrkResult; cpuUs: number }[] = [];
  const runs = targets.map(() => [] as { r: WrkResult; cpuUs: number }[]);
  for (let round = 1; round <= ROUNDS; round++) {
    ceilings.push(await measure({ url: ceiling.base }, DURATION, ceiling.pid));
    say(`round ${round}: ceiling ${Math.round(ceilings.at(-1)!.r.rps)} rps`);
    for (const [i, t] of targets.entries()) {
      runs[i]!.push(await measure(t.o));
      say(`round ${round}: ${t.name} ${Math.round(runs[i]!.at(-1)!.r.rps)} rps`);
    }
  }
  // The write path: closed model (its maximum), then open model at half that rate.
  const semiBefore = await stand.dbs.semiSync();
  await measure({ url: `${inst.base}/api/articles/${slug}/comments`, ...comment }, 1);
  const writes = await measure({ url: `${inst.base}/api/articles/${slug}/comments`, ...comment });
  ceilings.push(await measure({ url: ceiling.base }, DURATION, ceiling.pid));
  say(`comment POST: ${Math.round(writes.r.rps)} rps (closed model); ceiling ${Math.round(ceilings.at(-1)!.r.rps)} rps`);
  // The cost of database.durability = full (the region's default): the same POST with every node syncing
  // its binlog and redo log at each commit, then back to relaxed (the stand's own setting) for the rest.
  await setDurability(stand, 'full');
  const durable = await measure({ url: `${inst.base}/api/articles/${slug}/comments`, ...comment });
  await setDurability(stand, 'relaxed');
  ceilings.push(await measure({ url: ceiling.base }, DURATION, ceiling.pid));
  say(`comment POST, durability full: ${Math.round(durable.r.rps)} rps (closed model); ceiling ${Math.round(ceilings.at(-1)!.r.rps)} rps`);
  const openRate = Math.max(1, Math.min(5000, Math.round(writes.r.rps / 2)));
  const open = await runLoad({
    baseUrl: inst.base, ratePerSecond: openRate, durationMs: DURATION * 1000, maxRequests: openRate * DURATION + 10, timeoutMs: 5_000,
    next: () => ({ kind: 'write', label: 'POST comment', method: 'POST', path: `/api/articles/${slug}/comments`, headers: comment.headers, body: comment.body, idempotent: false }),
  });
  sent.requests += open.samples.length;
  const semiAfter = await stand.dbs.semiSync();
  clearInterval(rssTimer);

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const median = (xs: number[]) => percentile(xs, 50) ?? 0;
  const ceilingRps = mean(ceilings.map((c) => c.r.rps));
  const row = (name: string, ms: { r: WrkResult; cpuUs: number }[], goal: number | null): Row => {
    const rps = mean(ms.map((m) => m.r.rps));
    const ratio = goal === null ? null : rps / ceilingRps;
    return {
      name, rps, ratio, goal: goal === null ? '' : `>= ${goal * 100} %`, ok: goal === null ? null : ratio! >= goal,
      p50: median(ms.map((m) => m.r.p50)), p99: median(ms.map((m) => m.r.p99)),
      non2xx: ms.reduce((s, m) => s + m.r.non2xx, 0), errors: ms.reduce((s, m) => s + m.r.errors, 0), cpuUs: mean(ms.map((m) => m.cpuUs)),
    };
  };
  const openLat = open.samples.map((s) => s.latencyMs);
  const openFailed = open.samples.filter((s) => s.outcome !== 'ok').length;
  const openP99 = percentile(openLat, 99) ?? 0;
  const rows: Row[] = [
    row('ceiling: bare node:http JSON hello', ceilings, null),
    ...targets.map((t, i) => {
      const r = row(t.name, runs[i]!, t.goal);
      return { ...r, ratio: r.rps / ceilingRps };
    }),
    row('POST /api/articles/:slug/comments (semi-sync, 2 replicas, durability relaxed)', [writes], 0.1),
    row('  same, database.durability full (sync_binlog=1, innodb_flush_log_at_trx_commit=1)', [durable], null),
    {
      name: `  same, open model at ${openRate}/s (half of the above)`, rps: open.samples.length / DURATION, ratio: null,
      p50: percentile(openLat, 50) ?? 0, p99: openP99, goal: 'p99 <= 50 ms, 0 failed', ok: openP99 <= 50 && openFailed === 0,
      non2xx: open.samples.filter((s) => s.outcome === 'http-error').length, errors: open.samples.filter((s) => s.outcome !== 'ok' && s.outcome !== 'http-error').length, cpuUs: null,
    },
  ];

  await inst.stop(); // flushes the access log
  const accessLines = readFileSync(inst.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"request completed"')).length;

  // The region's API tier: the default definition's instances behind its API load balancer (HAProxy, the
  // region's generated section), against one of those instances directly, alternating, same run.
  say('starting the default region\'s API tier (instances + load balancer)...');
  region = await startLoadBalanced(dir, stand, state);
  const direct = region.instances[0]!;
  const lbRuns: { r: WrkResult; cpuUs: number }[] = [];
  const directRuns: { r: WrkResult; cpuUs: number }[] = [];
  await measure({ url: `${region.base}/api/articles` }, 1, region.pid);
  for (let round = 1; round <= ROUNDS; round++) {
    directRuns.push(await measure({ url: `${direct.base}/api/articles` }, DURATION, direct.pid));
    lbRuns.push(await measure({ url: `${region.base}/api/articles` }, DURATION, region.pid));
    say(`round ${round}: list via the load balancer ${Math.round(lbRuns.at(-1)!.r.rps)} rps, one instance directly ${Math.round(directRuns.at(-1)!.r.rps)} rps`);
  }
  const lbCount = region.instances.length;
  await region.stop();
  region = undefined;
  const lbLines = readFileSync(join(state, 'lb.log'), 'utf8').split('\n').filter((l) => l.includes(' fe_api ')).length;
  const directRow = row(`GET /api/articles (cached), one of those instances directly`, directRuns, null);
  const lbRow = row(`  same, through the API load balancer (${lbCount} instances)`, lbRuns, null);
  const lbRatio = lbRow.rps / directRow.rps;
  rows.push({ ...directRow, ratio: directRow.rps / ceilingRps }, { ...lbRow, ratio: lbRow.rps / ceilingRps, goal: '>= 60 % of direct', ok: lbRatio >= 0.6 });
  const f = (n: number, d = 0) => n.toFixed(d);
  const cols: [string, number, (r: Row) => string][] = [
    ['endpoint', 58, (r) => r.name],
    ['rps', 7, (r) => f(r.rps)],
    ['p50 ms', 7, (r) => f(r.p50, 1)],
    ['p99 ms', 7, (r) => f(r.p99, 1)],
    ['% ceil', 7, (r) => (r.ratio === null ? '' : `${f(r.ratio * 100)} %`)],
    ['goal', 30, (r) => (r.ok === null ? '' : `${r.goal} ${r.ok ? 'ok' : 'MISSED'}`)],
    ['non-2xx', 8, (r) => String(r.non2xx)],
    ['errors', 7, (r) => String(r.errors)],
    ['CPU us/req', 10, (r) => (r.cpuUs === null ? '' : f(r.cpuUs))],
  ];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(cols[i]![1])).join(' ').trimEnd();
  const lines = [
    '',
    `Conduit API benchmark: one instance of the release bundle (${process.env.BENCH_RELEASE ?? 'built by tier release'}), LOG_LEVEL=info, NODE_ENV=production;`,
    `wrk -t2 -c${CONNECTIONS}, ${ROUNDS} rounds of ${DURATION} s per endpoint, 127.0.0.1, Node ${process.version}; ceiling per run: ${ceilings.map((c) => f(c.r.rps)).join(', ')} rps`,
    line(cols.map((c) => c[0])),
    ...rows.map((r) => line(cols.map((c) => c[2](r)))),
    `RSS of the instance: ${f(idleRss)} MB idle, ${f(peakRss)} MB peak under load (goal <= ${RSS_GOAL_MB} MB: ${peakRss <= RSS_GOAL_MB ? 'ok' : 'MISSED'})`,
    `semi-sync during the write phases: ${semiAfter.on ? 'on' : 'OFF'}, ${semiAfter.clients} replicas acknowledging, ` +
      `${semiAfter.yesTx - semiBefore.yesTx} commits acknowledged, ${semiAfter.noTx - semiBefore.noTx} without acknowledgement`,
    `load balancer: ${f(lbRatio * 100)} % of one instance directly (goal >= 60 %: ${lbRatio >= 0.6 ? 'ok' : 'MISSED'}); the load balancer's CPU per request ${f(lbRow.cpuUs ?? 0)} us; ${lbLines} access lines in its log`,
    `access log: ${accessLines} lines "request completed" for ${sent.requests} requests counted by the clients (requests cut at the end of a phase are logged but not counted)`,
    `machine load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} cores): rps compare only within one run`,
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
    say(`bulk-loaded ${SCALE} articles in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
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
  say(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await Promise.all([instance?.stop(), ceiling?.stop(), region?.stop()]);
  await stand?.stop();
  clearTimeout(deadline);
}
