// The benchmark's throwaway stand: what one API instance needs around it, started from nothing and
// stopped afterwards (used by bench.ts and profile.ts, never by the tests):
// - a MariaDB primary and 2 replicas (GTID, semi-sync AFTER_SYNC on, as the local region runs them) and a
//   Redis, on ports no test uses (MariaDB 28406-28408, Redis 29479), migrated and seeded;
// - the release artifact (`tier release`), unpacked the way an instance installs it, and `node server.mjs`
//   run from it with the production environment (LOG_LEVEL=info, NODE_ENV=production, logs to a file);
// - the ceiling: a bare node:http server answering a small JSON document, in a process of its own.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { resolve } from '@conduit/definition';
import { haproxyApiLoadBalancer, haproxyGlobalAndDefaults } from '@conduit/local';
import { assertPortFree, startMariaDbReplicaSet, startRedis, stopProcess, type ReplicaSetHandle, type ServerHandle } from '@conduit/testkit';
import { startMariaDbReliably } from '../mariadb.js';
import { migrate } from '../../src/db/migrate.js';
import { apiEnvironment } from '../../src/environment.js';
import { seed } from '../../src/db/seed.js';

export const root = resolvePath(import.meta.dirname, '..', '..', '..', '..');
export const PORTS = { db: [28406, 28407, 28408], redis: 29479, instance: 28490, ceiling: 28491, lb: 28492, lbInstancesBase: 28500 } as const;
export const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

export interface Stand {
  dbs: ReplicaSetHandle;
  redis: ServerHandle;
  /** The primary (the writer) and the first replica (the reader endpoint). */
  writerUrl: string;
  readerUrl: string;
  redisUrl: string;
  seeded: { users: number; articles: number };
  stop(): Promise<void>;
}

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

export async function startStand(state: string): Promise<Stand> {
  say('starting MariaDB (primary + 2 semi-sync replicas) and Redis...');
  const [dbs, redis] = await Promise.all([
    startMariaDbReplicaSet({ ports: [...PORTS.db], dir: join(state, 'mariadb'), database: 'conduit_bench', start: (o) => startMariaDbReliably(o) }),
    startRedis({ port: PORTS.redis, dir: join(state, 'redis') }),
  ]);
  const stop = async () => { await Promise.all([dbs.stop(), redis.stop()]); };
  try {
    const writerUrl = `mysql://root@127.0.0.1:${dbs.primary.port}/conduit_bench`;
    const readerUrl = `mysql://root@127.0.0.1:${dbs.replicas[0]!.port}/conduit_bench`;
    await migrate(writerUrl);
    const seeded = await seed(writerUrl);
    say(`seeded ${seeded.users} users, ${seeded.articles} articles`);
    return { dbs, redis, writerUrl, readerUrl, redisUrl: `redis://127.0.0.1:${redis.port}`, seeded, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Builds the release with `tier release` and unpacks api/current.tar.gz into <state>/instance, as the AWS
 * boot script does; or unpacks the given artifact instead (BENCH_RELEASE=path/to/api/current.tar.gz, e.g.
 * an earlier build to compare with). Returns that folder (it holds server.mjs).
 */
export function buildAndUnpackRelease(state: string, tarball = process.env.BENCH_RELEASE): string {
  if (!tarball) {
    const out = join(state, 'release');
    say('building the release (tier release)...');
    execFileSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), 'release', `--out=${out}`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    tarball = join(out, 'api', 'current.tar.gz');
  }
  const dir = join(state, 'instance');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', resolvePath(tarball), '-C', dir]);
  return dir;
}

/** utime + stime of a process (every thread), in clock ticks (1/100 s). */
export function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Where an instance listens and the labels it logs (INSTANCE_ID, ZONE). */
export interface Slot {
  name: string;
  zone: string;
  port: number;
}

export interface Instance {
  child: ChildProcess;
  pid: number;
  base: string;
  logFile: string;
  stop(): Promise<void>;
}

async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The default definition (stack.config.ts) with the bench's ports: instances get its heap limits, the LB its API tier. */
async function benchDefinition() {
  const mod = (await import(pathToFileURL(join(root, 'stack.config.ts')).href)) as { default: Record<string, unknown> & { local?: Record<string, unknown> } };
  const input = mod.default;
  return resolve({
    ...input,
    local: { ...input.local, ports: { api: PORTS.lb, lbStats: PORTS.lb + 1, apiInstancesBase: PORTS.lbInstancesBase } },
  });
}

/**
 * `node [nodeArgs] server.mjs` from the unpacked release, with the environment an instance gets
 * (packages/aws user-data, packages/local apiInstanceEnv): production logging to stdout, here a file
 * (the local region's supervisor does the same; on AWS journald reads it).
 */
export async function startInstance(dir: string, stand: Stand, state: string, nodeArgs: string[] = [], slot: Slot = { name: 'api-bench', zone: 'bench-a', port: PORTS.instance }, extraEnv: Record<string, string> = {}): Promise<Instance> {
  await assertPortFree(slot.port, `bench API instance ${slot.name}`);
  const { heap } = (await benchDefinition()).api;
  const logFile = join(state, `${slot.name}.log`);
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...nodeArgs, 'server.mjs'], {
      cwd: dir,
      // What the region's process specs and the AWS boot script give an instance (the same function).
      env: {
        PATH: process.env.PATH ?? '',
        ...apiEnvironment({
          databaseWriterUrl: stand.writerUrl,
          databaseReaderUrl: stand.readerUrl,
          cache: { kind: 'url', url: stand.redisUrl },
          jwtSecret: JWT_SECRET,
          host: '127.0.0.1',
          port: slot.port,
          logLevel: 'info',
          instanceId: slot.name,
          zone: slot.zone,
          // The write path is measured, not the per-user write limit (60/min by default): one user posts every
          // comment. The limiter still runs (one counter in Redis per write), it just never says no.
          rateLimitWritesPerMin: 1_000_000,
          heap,
        }),
        ...extraEnv,
      },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const base = `http://127.0.0.1:${slot.port}`;
  const stop = () => stopProcess(child, 10_000);
  try {
    await waitHttp(`${base}/health/ready`, child, 'the API instance');
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, pid: child.pid!, base, logFile, stop };
}

/** The ceiling: node:http answering {"hello":"world"} with keep-alive, nothing else, in its own process. */
export async function startCeiling(nodeArgs: string[] = []): Promise<Instance> {
  await assertPortFree(PORTS.ceiling, 'bench ceiling');
  const code = `
    const body = Buffer.from(JSON.stringify({ hello: 'world' }));
    require('node:http').createServer({ keepAliveTimeout: 65000 }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    }).listen(${PORTS.ceiling}, '127.0.0.1');
    // Exit on SIGTERM rather than die of it, so that --cpu-prof (profile.ts) writes its profile.
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, [...nodeArgs, '-e', code], { stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${PORTS.ceiling}`;
  const stop = () => stopProcess(child, 5_000);
  try {
    await waitHttp(base, child, 'the ceiling server');
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, pid: child.pid!, base, logFile: '', stop };
}

export interface LoadBalanced {
  /** The load balancer's URL (HAProxy's fe_api). */
  base: string;
  pid: number;
  instances: Instance[];
  logFile: string;
  stop(): Promise<void>;
}

/**
 * The default region's API tier on the bench's ports: the definition in stack.config.ts (its instance count,
 * zones, health checks) with the API load balancer on PORTS.lb and the instance slots from PORTS.lbInstancesBase,
 * `desired` instances of the release, and HAProxy running the section the region's generator writes
 * (haproxyGlobalAndDefaults + haproxyApiLoadBalancer: the same timeouts, retries, request-id and access log).
 */
export async function startLoadBalanced(dir: string, stand: Stand, state: string): Promise<LoadBalanced> {
  const d = await benchDefinition();
  const slots = d.apiSlots.slice(0, d.api.instances.desired);
  const instances: Instance[] = [];
  let lb: ChildProcess | undefined;
  const logFile = join(state, 'lb.log');
  const stop = async () => {
    if (lb) await stopProcess(lb, 5_000);
    await Promise.all(instances.map((i) => i.stop()));
  };
  try {
    for (const s of slots) instances.push(await startInstance(dir, stand, state, [], { name: s.name, zone: s.zone, port: s.port }));
    await assertPortFree(PORTS.lb, 'bench API load balancer');
    const cfg = join(state, 'haproxy.cfg');
    writeFileSync(cfg, [...haproxyGlobalAndDefaults(join(state, 'haproxy.sock')), ...haproxyApiLoadBalancer(d)].join('\n'));
    const fd = openSync(logFile, 'w');
    try {
      lb = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const base = `http://${d.address}:${PORTS.lb}`;
    await waitHttp(`${base}${d.api.healthCheck.path}`, lb, 'the API load balancer');
    // Every server passed a health check: a round of requests reaches each instance.
    await sleep(2 * d.api.healthCheck.intervalMs);
    return { base, pid: lb.pid!, instances, logFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
