// A stand-in for the local region, for a quick loop while developing the SPA (CONDUIT_STANDIN=1):
// a front server on 127.0.0.1:25181 serving dist and forwarding /api to the real API on 25184,
// itself on throwaway MariaDB/Redis. CI tests through a real region's edge instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { distDir, webDir } from '../../build-info.mjs';
import { createFrontServer } from './front-server.ts';
import type { Target } from './target.ts';

export const PORTS = { front: 25181, mariadb: 25182, redis: 25183, api: 25184 };
const repoRoot = join(webDir, '..', '..');
const stateDir = join(repoRoot, '.test-state', 'web');

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
const close = (server: Server) => new Promise<void>((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });

async function waitHttp(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`API process exited with code ${child.exitCode} before answering ${url}`);
    try { const r = await fetch(url); if (r.status < 500) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startRealApi(): Promise<{ origin: string; description: string; stop(): Promise<void> }> {
  const testkit = await import('@conduit/testkit');
  mkdirSync(stateDir, { recursive: true });
  const db = await testkit.startMariaDb({ port: PORTS.mariadb, dir: join(stateDir, 'mariadb'), database: 'conduit' });
  const redis = await testkit.startRedis({ port: PORTS.redis, dir: join(stateDir, 'redis') });
  const dbUrl = `mysql://root@127.0.0.1:${PORTS.mariadb}/conduit`;
  let child: ChildProcess | undefined;
  try {
    const apiPackage = '@conduit/api'; // not a literal import: its sources are type-checked by its own package
    const apiModule = (await import(apiPackage)) as { migrate?: (url: string) => Promise<unknown> };
    if (typeof apiModule.migrate !== 'function') throw new Error('@conduit/api does not export migrate(url)');
    await apiModule.migrate(dbUrl);
    const log = openSync(join(stateDir, 'api.log'), 'a');
    child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'packages/api/src/server.ts')], {
      cwd: repoRoot, detached: true, stdio: ['ignore', log, log],
      env: {
        ...process.env, PORT: String(PORTS.api), HOST: '127.0.0.1',
        DATABASE_WRITER_URL: dbUrl, DATABASE_READER_URL: dbUrl, REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
        JWT_SECRET: 'web-browser-tests-secret-at-least-32-chars', NODE_ENV: 'test', LOG_LEVEL: 'warn',
      },
    });
    await waitHttp(`http://127.0.0.1:${PORTS.api}/api/tags`, 30_000, child);
  } catch (e) {
    if (child) await testkit.stopProcess(child);
    await redis.stop();
    await db.stop();
    throw e;
  }
  const api = child;
  return {
    origin: `http://127.0.0.1:${PORTS.api}`,
    description: `the real API (packages/api) on throwaway MariaDB :${PORTS.mariadb} and Redis :${PORTS.redis}`,
    stop: async () => { await testkit.stopProcess(api); await redis.stop(); await db.stop(); },
  };
}

export async function startStandIn(): Promise<Target> {
  const api = await startRealApi();
  const front = createFrontServer({ distDir, apiOrigin: api.origin });
  try { await listen(front, PORTS.front); } catch (e) { await api.stop(); throw e; }
  return {
    url: `http://127.0.0.1:${PORTS.front}`,
    description: `stand-in front server :${PORTS.front} (dist + /api proxy) in front of ${api.description}`,
    stop: async () => { await close(front); await api.stop(); },
  };
}
