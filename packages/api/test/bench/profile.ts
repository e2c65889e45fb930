// `npm run profile:api`: where the CPU time of one request goes in the release bundle, per module
// (npm package or API source file) and per API function (hooks, handlers), for each benchmarked
// endpoint, and for the bare node:http ceiling the same way (what Node and the kernel cost alone).
// For each endpoint: start `node --cpu-prof server.mjs` from the release (production logging), load it
// with wrk, stop it (the profile is written at exit), summarize the samples taken under load. Uses the bench's stand (bench/stand.ts); bounded in time. Profiles stay in
// .test-state/api-bench/profiles for a flame graph (Chrome DevTools or speedscope open .cpuprofile).
import { readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess } from '@conduit/testkit';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import { buildAndUnpackRelease, cpuTicks, root, startCeiling, startInstance, startStand, type Instance, type Stand } from './stand.js';
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
  /** Starts a process with --cpu-prof (in its own folder), loads it, stops it, summarizes the samples under load. */
  const profileOne = async (name: string, start: (args: string[]) => Promise<Instance>, load: (inst: Instance) => Promise<Load>, perFunction: boolean) => {
    const profDir = join(state, 'profiles', name.replace(/[^a-z]+/gi, '-'));
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
    const started = Date.now(); // about when the profile starts
    const inst = await start(['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    try {
      const o = await load(inst);
      await runWrk({ ...o, connections: CONNECTIONS, threads: 2, seconds: 1 });
      const fromMs = Date.now() - started;
      const before = cpuTicks(inst.pid);
      const r = await runWrk({ ...o, connections: CONNECTIONS, threads: 2, seconds: SECONDS });
      const cpuUs = ((cpuTicks(inst.pid) - before) * 10_000) / r.requests;
      await stopProcess(inst.child, 10_000);
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written in ${profDir}`);
      const s = summarize(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile, moduleOf, fromMs);
      const n = r.requests;
      out.push(
        '',
        `${name}: ${Math.round(r.rps)} rps, ${n} requests, ${((s.busyMs * 1000) / n).toFixed(1)} us of CPU (main thread) per request, ` +
          `${cpuUs.toFixed(1)} us of the whole process (every thread, kernel included)`,
        ...perRequestTable(' self time per module', s.selfByModule, n),
        ...(perFunction ? perRequestTable(' inclusive time per API function', s.inclusiveByFunction, n, 10) : []),
      );
    } finally {
      await inst.stop();
    }
  };
  // The ceiling first, profiled the same way: what Node's HTTP server and the kernel cost with nothing on top.
  if (!ONLY || 'ceiling'.includes(ONLY)) await profileOne('ceiling (bare node:http JSON hello)', startCeiling, async (c) => ({ url: c.base }), false);
  for (const [name, opts] of endpoints) {
    if (ONLY && !name.includes(ONLY)) continue;
    await profileOne(name, (args) => startInstance(dir, stand!, state, args), async (inst) => {
      const login = await fetch(`${inst.base}/api/users/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } }),
      });
      const token = ((await login.json()) as { user: { token: string } }).user.token;
      const slug = ((await (await fetch(`${inst.base}/api/articles?limit=1`)).json()) as { articles: { slug: string }[] }).articles[0]!.slug;
      return opts(inst.base, token, slug);
    }, true);
  }
  process.stdout.write(out.join('\n') + '\n');
} catch (err) {
  process.stderr.write(`profile: failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await stand?.stop();
  clearTimeout(deadline);
}
