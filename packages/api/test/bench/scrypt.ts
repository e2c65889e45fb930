// CPU per sign-in (one scrypt verification) at the previous cost and at the definition's default (OWASP),
// measured in the same run, one hash at a time (process CPU: scrypt runs on libuv's pool). Prints a table.
//   node --import tsx packages/api/test/bench/scrypt.ts [rounds]
import { performance } from 'node:perf_hooks';
import { OWASP_SCRYPT, createPasswordHasher, type ScryptParams } from '../../src/auth/password.js';

const rounds = Number(process.argv[2] ?? 20);
const settings: [string, ScryptParams][] = [
  ['previous (N=2^14, r=8, p=1)', { N: 2 ** 14, r: 8, p: 1 }],
  [`default, OWASP equivalent (N=2^14, r=8, p=${OWASP_SCRYPT.p})`, OWASP_SCRYPT],
  ['OWASP first listed (N=2^17, r=8, p=1, 128 MiB)', { N: 2 ** 17, r: 8, p: 1 }],
];

const results: { name: string; cpuMs: number; wallMs: number; rssMb: number }[] = [];
for (const [name, params] of settings) {
  const h = createPasswordHasher(params);
  const stored = await h.hash('correct horse battery staple');
  await h.verify('correct horse battery staple', stored); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rss = 0;
  for (let i = 0; i < rounds; i++) {
    await h.verify('correct horse battery staple', stored);
    rss = Math.max(rss, process.memoryUsage.rss());
  }
  const cpu = process.cpuUsage(cpu0);
  results.push({ name, cpuMs: (cpu.user + cpu.system) / 1000 / rounds, wallMs: (performance.now() - t0) / rounds, rssMb: rss / 2 ** 20 });
}
const base = results[0]!.cpuMs;
console.log(`scrypt, one sign-in = one verification, ${rounds} rounds each, ${new Date().toISOString()}`);
for (const r of results) {
  console.log(`${r.name.padEnd(52)} CPU ${r.cpuMs.toFixed(1).padStart(6)} ms (${(r.cpuMs / base).toFixed(1)}x the previous)  wall ${r.wallMs.toFixed(1).padStart(6)} ms  peak RSS ${r.rssMb.toFixed(0)} MB`);
}
