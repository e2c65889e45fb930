// `npm run profile:api`: where the CPU time of one request goes in the release bundle, per module
// (npm package or API source file) and per API function (hooks, handlers), for each benchmarked
// endpoint. For each endpoint: start `node --cpu-prof server.mjs` from the release (production
// logging), load it with wrk, stop it (the profile is written at exit), summarize the samples
// taken under load. Uses the bench's stand (bench/stand.ts); bounded in time. Profiles stay in
// .test-state/api-bench/profiles for a flame graph (Chrome DevTools or speedscope open .cpuprofile).
import { readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess } from '@conduit/testkit';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import { buildAndUnpackRelease, root, startInstance, startStand, type Stand } from './stand.js';
import { bundleModules, perRequestTable, summarize, type CpuProfile } from './cpuprofile.js';
import { assertWrk, runWrk, type WrkOptions } from './wrk.js';

const state = join(root, '.test-state', 'api-bench');
const SECONDS = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ONLY = process.env.PROFILE_ONLY;
const deadline = setTimeout(() => { process.stderr.write('profile: deadline passed, aborting\n'); process.exit(2); }, 300_000);
deadline.unref();

let stand: Stand | undefined;
try {
  assertWrk();
  const dir = buildAndUnpackRelease(state);
  stand = await startStand(state);
  const moduleOf = bundleModules(join(dir, 'server.mjs'));
  const out: string[] = [];
  type Load = Omit<WrkOptions, 'connections' | 'threads' | 'seconds'>;
  const endpoints: [string, (base: string, token: string, slug: string) => Load][] = [
    ['GET /health/live', (b) => ({ url: `${b}/health/live` })],
    ['GET /api/articles (anonymous, cached)', (b) => ({ url: `${b}/api/articles` })],
    ['GET /api/articles/:slug (anonymous, cached)', (b, _t, s) => ({ url: `${b}/api/articles/${s}` })],
    ['GET /api/articles (authenticated)', (b, t) => ({ url: `${b}/api/articles`, headers: { authorization: `Token ${t}` } })],
    ['GET /api/articles/feed (authenticated)', (b, t) => ({ url: `${b}/api/articles/feed`, headers: { authorization: `Token ${t}` } })],
    ['POST /api/articles/:slug/comments', (b, t, s) => ({
      url: `${b}/api/articles/${s}/comments`, method: 'POST',
      headers: { authorization: `Token ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ comment: { body: 'Profiled comment' } }),
    })],
  ];
  for (const [name, opts] of endpoints) {
    if (ONLY && !name.includes(ONLY)) continue;
    const profDir = join(state, 'profiles', name.replace(/[^a-z]+/gi, '-'));
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
    const started = Date.now(); // about when the profile starts
    const inst = await startInstance(dir, stand, state, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    try {
      const login = await fetch(`${inst.base}/api/users/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } }),
      });
      const token = ((await login.json()) as { user: { token: string } }).user.token;
      const slug = ((await (await fetch(`${inst.base}/api/articles?limit=1`)).json()) as { articles: { slug: string }[] }).articles[0]!.slug;
      const o = opts(inst.base, token, slug);
      await runWrk({ ...o, connections: CONNECTIONS, threads: 2, seconds: 1 });
      const fromMs = Date.now() - started;
      const r = await runWrk({ ...o, connections: CONNECTIONS, threads: 2, seconds: SECONDS });
      await stopProcess(inst.child, 10_000);
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written in ${profDir}`);
      const s = summarize(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile, moduleOf, fromMs);
      const n = r.requests;
      out.push(
        '',
        `${name}: ${Math.round(r.rps)} rps, ${n} requests, ${((s.busyMs * 1000) / n).toFixed(1)} us of CPU (main thread) per request`,
        ...perRequestTable(' self time per module', s.selfByModule, n),
        ...perRequestTable(' inclusive time per API function', s.inclusiveByFunction, n, 10),
      );
    } finally {
      await inst.stop();
    }
  }
  process.stdout.write(out.join('\n') + '\n');
} catch (err) {
  process.stderr.write(`profile: failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await stand?.stop();
  clearTimeout(deadline);
}
