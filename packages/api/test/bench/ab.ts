// A/B of release builds and node flags in ONE run: the bench's stand, every variant's instance started side by
// side, rounds interleaved (the ceiling, then each path on each variant), so that a change is compared on the
// same machine state (the machine is shared and noisy: separate bench runs differ by more than most changes).
// Prints rps (% of the mean ceiling), CPU per request and peak RSS per variant; AB_STRACE=1 also counts the
// system calls of the ceiling and of the first variant under load (strace -c -f).
//   AB='[{"name":"before","tar":"/tmp/a/api/current.tar.gz"},{"name":"after","tar":"/tmp/b/api/current.tar.gz","args":["--flag"],"env":{"K":"V"}}]' \
//   AB_SECONDS=3 AB_ROUNDS=2 flock /tmp/conduit-ports.lock node --import tsx packages/api/test/bench/ab.ts
// (a tarball is what `tier release --out=DIR` writes as DIR/api/current.tar.gz).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildAndUnpackRelease, cpuTicks, PORTS, root, rssMb, startCeiling, startInstance, startStand, type Instance, type Stand } from './stand.js';
import { runWrk } from './wrk.js';
import { DEMO_PASSWORD } from '../../src/db/seed.js';

const state = join(root, '.test-state', 'api-bench');
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 2);
if (!process.env.AB) throw new Error('AB: missing, expected a JSON list of {"name", "tar", "args"?} (see the top of ab.ts)');
const variants = JSON.parse(process.env.AB) as { name: string; tar: string; args?: string[]; env?: Record<string, string> }[];
let stand: Stand | undefined; let ceiling: Instance | undefined; const insts: Instance[] = [];
try {
  stand = await startStand(state);
  ceiling = await startCeiling();
  const dirs = variants.map((v, i) => buildAndUnpackRelease(join(state, `ab${i}`), v.tar));
  const m = async (url: string, pid: number, headers?: Record<string, string>) => { const b = cpuTicks(pid); const r = await runWrk({ url, headers, connections: 64, threads: 2, seconds: SECONDS }); return { rps: r.rps, cpu: ((cpuTicks(pid) - b) * 10000) / r.requests }; };
  const res: Record<string, Record<string, { rps: number; cpu: number }[]>> = {};
  const ceil: number[] = [];
  const peak: number[] = variants.map(() => 0);
  for (const [i, v] of variants.entries()) {
    const inst = await startInstance(dirs[i]!, stand, state, v.args ?? [], { name: `ab${i}`, zone: 'a', port: PORTS.lbInstancesBase + i }, v.env);
    insts.push(inst);
  }
  const slug = ((await (await fetch(`${insts[0]!.base}/api/articles?limit=1`)).json()) as { articles: { slug: string }[] }).articles[0]!.slug;
  const login = await fetch(`${insts[0]!.base}/api/users/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } }),
  });
  const auth = { authorization: `Token ${((await login.json()) as { user: { token: string } }).user.token}` };
  const paths = { health: '/health/live', list: '/api/articles', article: `/api/articles/${slug}`, 'signed-in list': '/api/articles' };
  const headersOf = (name: string) => (name === 'signed-in list' ? auth : undefined);
  for (const inst of insts) for (const [name, p] of Object.entries(paths)) await runWrk({ url: inst.base + p, headers: headersOf(name), connections: 64, threads: 2, seconds: 1 });
  const timer = setInterval(() => insts.forEach((x, i) => { peak[i] = Math.max(peak[i]!, rssMb(x.pid)); }), 100);
  for (let r = 0; r < ROUNDS; r++) {
    ceil.push((await m(ceiling.base, ceiling.pid)).rps);
    for (const [name, p] of Object.entries(paths)) {
      for (const [i, v] of variants.entries()) {
        ((res[v.name] ??= {})[name] ??= []).push(await m(insts[i]!.base + p, insts[i]!.pid, headersOf(name)));
      }
    }
  }
  ceil.push((await m(ceiling.base, ceiling.pid)).rps);
  clearInterval(timer);
  const c = ceil.reduce((a, b) => a + b) / ceil.length;
  const out = [`ceiling ${ceil.map(Math.round).join(', ')} (mean ${Math.round(c)})`];
  for (const [i, v] of variants.entries()) {
    const cells = Object.entries(res[v.name]!).map(([n, xs]) => { const rps = xs.reduce((a, b) => a + b.rps, 0) / xs.length; const cpu = xs.reduce((a, b) => a + b.cpu, 0) / xs.length; return `${n} ${Math.round(rps)} (${((rps / c) * 100).toFixed(1)} %, ${cpu.toFixed(0)} us)`; });
    out.push(`${v.name.padEnd(16)} ${cells.join('  ')}  peak RSS ${peak[i]!.toFixed(0)} MB`);
  }
  process.stdout.write(out.join('\n') + '\n');
  if (process.env.AB_STRACE) {
    const trace = async (label: string, pid: number, url: string) => {
      const st = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = ''; st.stderr.on('data', (d) => { err += d; });
      await new Promise((r) => setTimeout(r, 500));
      const r = await runWrk({ url, connections: 64, threads: 2, seconds: 2 });
      st.kill('SIGINT'); await new Promise((res) => st.on('exit', res));
      process.stdout.write(`\nstrace ${label}: ${r.requests} requests\n${err.split('\n').filter((l) => /^\s*\d/.test(l)).slice(0, 12).join('\n')}\n`);
    };
    await trace('ceiling', ceiling.pid, ceiling.base);
    await trace('health', insts[0]!.pid, insts[0]!.base + paths.health);
    await trace('list', insts[0]!.pid, insts[0]!.base + paths.list);
  }
} finally {
  await Promise.all(insts.map((i) => i.stop()));
  await ceiling?.stop();
  await stand?.stop();
}
