// The benchmark's throwaway stand: what one API instance needs around it, started from nothing and
// stopped afterwards (used by bench.ts and profile.ts, never by the tests):
// - a MariaDB primary and 2 replicas (GTID, semi-sync AFTER_SYNC on, as the local region runs them) and a
//   Redis, on ports no test uses (MariaDB 28406-28408, Redis 29479), migrated and seeded;
// - the release artifact (`tier release`), unpacked the way an instance installs it, and `node server.mjs`
//   run from it with the production environment (LOG_LEVEL=info, NODE_ENV=production, logs to a file);
// - the ceiling: a bare node:http server answering a small JSON document, in a process of its own.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertPortFree, startMariaDbReplicaSet, startRedis, stopProcess, type ReplicaSetHandle, type ServerHandle } from '@conduit/testkit';
import { startMariaDbReliably } from '../mariadb.js';
import { migrate } from '../../src/db/migrate.js';
import { seed } from '../../src/db/seed.js';

export const root = resolve(import.meta.dirname, '..', '..', '..', '..');
export const PORTS = { db: [28406, 28407, 28408], redis: 29479, instance: 28490, ceiling: 28491 } as const;
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
  execFileSync('tar', ['-xzf', resolve(tarball), '-C', dir]);
  return dir;
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

/**
 * `node [nodeArgs] server.mjs` from the unpacked release, with the environment an instance gets
 * (packages/aws user-data, packages/local apiInstanceEnv): production logging to stdout, here a file
 * (the local region's supervisor does the same; on AWS journald reads it).
 */
export async function startInstance(dir: string, stand: Stand, state: string, nodeArgs: string[] = []): Promise<Instance> {
  await assertPortFree(PORTS.instance, 'bench API instance');
  const logFile = join(state, 'instance.log');
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...nodeArgs, 'server.mjs'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(PORTS.instance),
        DATABASE_WRITER_URL: stand.writerUrl,
        DATABASE_READER_URL: stand.readerUrl,
        REDIS_URL: stand.redisUrl,
        JWT_SECRET,
        LOG_LEVEL: 'info',
        INSTANCE_ID: 'api-bench',
        ZONE: 'bench-a',
      },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const base = `http://127.0.0.1:${PORTS.instance}`;
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
export async function startCeiling(): Promise<Instance> {
  await assertPortFree(PORTS.ceiling, 'bench ceiling');
  const code = `
    const body = Buffer.from(JSON.stringify({ hello: 'world' }));
    require('node:http').createServer({ keepAliveTimeout: 65000 }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    }).listen(${PORTS.ceiling}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore', detached: true });
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
