// Integration: a small real region (2 zones, 2 API instances, 2 front instances, 1 replica) brought
// up by the real `tier` CLI, checked through the edge, then destroyed with nothing left behind.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { tierFor } from './tier-cli.ts';
import {
  dbSocket, logFile, queryNode, readRegion, httpGet, isAlive, waitUntil, haproxyServers, statePaths, loadOrCreateSecrets, repoRoot, addInstance, removeInstance, sentinelMasterPort, supervisorRequest, redisRole, redisConfFile, sentinelConfFiles, sourceVersion, readHistory, regionDeploy, releaseBuildsDir,
  type ProcessRecord,
} from '../src/index.js';
import { buildRelease } from '@conduit/release';
import small from './fixtures/small.config.ts';

const config = join(repoRoot, 'packages/local/test/fixtures/small.config.ts');
const stateDir = join(repoRoot, '.test-state/local');
const d = resolve(small);
const edge = `http://127.0.0.1:${d.local.ports.edge}`;

const tier = tierFor(config);
const execFileP = promisify(execFile);

/** The app user's login through an endpoint; `tls` verifies MariaDB against the region's CA, as the API does. */
function appLogin(port: number, tls = true, database?: string): mysql.ConnectionOptions {
  const paths = statePaths(stateDir);
  const secrets = loadOrCreateSecrets(paths);
  return {
    host: '127.0.0.1', port, user: secrets.appUser, password: secrets.appPassword, database, connectTimeout: 5_000,
    ...(tls ? { ssl: { ca: readFileSync(paths.tls.ca, 'utf8'), rejectUnauthorized: true } } : {}),
  };
}

/** redis-cli against the region, the password in its environment (REDISCLI_AUTH), never in argv; its output. */
async function redisCli(port: number, args: string[], user?: string, password?: string): Promise<string> {
  const r = await execFileP('redis-cli', ['-h', d.address, '-p', String(port), ...(user ? ['--user', user] : []), ...args],
    { timeout: 5_000, env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) } });
  return r.stdout.trim();
}

const proc = (name: string): ProcessRecord => readRegion(stateDir).processes.find((p) => p.name === name)!;
let everyPid: number[] = [];

beforeAll(async () => {
  await tier('destroy');
}, 180_000);

afterAll(async () => {
  const seen = new Set([...everyPid, ...readRegion(stateDir).processes.map((p) => p.pid).filter((p): p is number => p !== null)]);
  const r = await tier('destroy');
  expect(r.code, r.stderr).toBe(0);
  const alive = [...seen].filter(isAlive);
  expect(alive, 'processes left behind').toEqual([]);
  expect(existsSync(stateDir)).toBe(false);
}, 180_000);

describe('tier up refuses a port taken by something else', () => {
  it('names the port and the component, starts nothing', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(d.local.ports.edge, '127.0.0.1', () => r()));
    try {
      const r = await tier('up');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${d.local.ports.edge} for edge (Varnish) is already in use`);
      expect(r.stderr).toContain('local.ports.edge');
      expect(readRegion(stateDir).processes).toEqual([]);
    } finally {
      squatter.close();
    }
  });
});

describe('a small region', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const r = await tier('up');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`site        ${edge}/`);
    expect(Date.now() - t0).toBeLessThan(60_000);
    everyPid = readRegion(stateDir).processes.map((p) => p.pid!);
  }, 180_000);

  it('reports every component healthy in `tier status --json`, with the site as endpoints.edge', async () => {
    const r = await tier('status', '--json');
    expect(r.code, r.stdout).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.endpoints.edge).toBe(`${edge}/`);
    expect(s.healthy).toBe(true);
    expect(s.processes.map((p: { name: string }) => p.name).sort()).toEqual([
      'api-1', 'api-2', 'backup-agent', 'db-a', 'db-b', 'edge', 'front-1', 'front-2', 'lb', 'mysqld-exporter', 'object-store', 'prometheus',
      'redis-1', 'redis-2', 'redis-exporter', 'sentinel-1', 'sentinel-2', 'sentinel-3',
    ]);
    for (const p of s.processes) expect(p, p.name).toMatchObject({ health: 'healthy' });
    const byName = (n: string) => s.processes.find((p: { name: string }) => p.name === n);
    expect(byName('api-2')).toMatchObject({ tier: 'api', zone: 'b', port: 21201 });
    // Instances run the installed release of these sources, never the sources through tsx.
    const version = sourceVersion();
    expect(s.release).toBe(version);
    for (const n of ['api-1', 'api-2', 'front-1', 'front-2']) expect(byName(n), n).toMatchObject({ version });
    expect(proc('api-1').command).toEqual([process.execPath, join(statePaths(stateDir).releases, version, 'api/server.mjs')]);
    expect(proc('front-1').command.join(' ')).toContain(join(statePaths(stateDir).releases, version, 'local-nginx/front-1.conf'));
    expect(readHistory(statePaths(stateDir)).at(-1)).toMatchObject({ version, action: 'up', result: 'ok' });
    expect(byName('db-a')).toMatchObject({ role: 'primary', detail: 'writable, semi-sync on (1 semi-sync replicas)' });
    expect(byName('db-b')).toMatchObject({ role: 'replica', detail: 'replicating from :21310, lag 0 s' });
    expect(byName('redis-1')).toMatchObject({ role: 'primary' });
    expect(byName('redis-2')).toMatchObject({ role: 'replica' });
  });

  it('Prometheus scrapes HAProxy, every API instance and both exporters, labelled by tier and zone; alarms loaded', async () => {
    const prom = `http://127.0.0.1:${d.local.ports.prometheus}`;
    type Target = { labels: Record<string, string>; health: string };
    let targets: Target[] = [];
    await waitUntil('every scrape target up', async () => {
      targets = JSON.parse((await httpGet(`${prom}/api/v1/targets`)).body).data.activeTargets as Target[];
      return targets.length >= 7 && targets.every((t) => t.health === 'up');
    }, 30_000, 500);
    const seen = targets.map((t) => `${t.labels.job} ${t.labels.tier} ${t.labels.zone}`).sort();
    expect(seen).toEqual(['api api a', 'api api b', 'haproxy lb regional', 'mysql db regional', 'prometheus monitoring regional', 'redis cache a', 'redis cache b']);
    const rules = JSON.parse((await httpGet(`${prom}/api/v1/rules`)).body).data.groups.flatMap((g: { rules: Array<{ name: string; health: string }> }) => g.rules);
    expect(rules.map((r: { name: string }) => r.name)).toContain('Api5xxPercent');
    expect(rules.every((r: { health: string }) => r.health === 'ok')).toBe(true);
  });

  it('a request through the edge reaches the API and the database, and the write replicates', async () => {
    const name = `edge${Date.now()}`;
    const reg = await httpGet(`${edge}/api/users`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { username: name, email: `${name}@example.com`, password: 'a-long-password-1' } }),
      timeoutMs: 10_000,
    });
    expect(reg.status, reg.body).toBe(201);
    const list = await httpGet(`${edge}/api/articles?limit=1`, { timeoutMs: 10_000 });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).articlesCount).toBeGreaterThanOrEqual(50); // the demo seed
    const reader = await mysql.createConnection(appLogin(d.local.ports.dbReader, true, 'conduit'));
    try {
      await waitUntil('the new user on the replica', async () => {
        const [rows] = await reader.query('SELECT COUNT(*) AS n FROM users WHERE username = ?', [name]);
        return (rows as Array<{ n: number }>)[0]!.n === 1;
      }, 5_000);
    } finally {
      await reader.end();
    }
  });

  it('the API sees the client address the edge saw, not a forged X-Forwarded-For (edge → LB → API: 2 trusted hops)', async () => {
    const id = `xff-${Date.now()}`;
    const r = await httpGet(`${edge}/api/users/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6', 'x-request-id': id }, body: '{}', timeoutMs: 10_000,
    });
    expect(r.status).toBe(422);
    const paths = statePaths(stateDir);
    let line: { ip?: string } | undefined;
    await waitUntil(`the access log line of ${id}`, async () => {
      for (const slot of d.apiSlots) {
        const file = logFile(paths, slot.name);
        const hit = existsSync(file) ? readFileSync(file, 'utf8').split('\n').find((l) => l.includes(`"reqId":"${id}"`) && l.includes('request completed')) : undefined;
        if (hit) line = JSON.parse(hit) as { ip?: string };
      }
      return line !== undefined;
    }, 10_000);
    expect(line!.ip).toBe('127.0.0.1');
  });

  it('the writer endpoint reaches the primary (writable) and the reader a replica (read-only)', async () => {
    const ask = async (port: number) => {
      const c = await mysql.createConnection(appLogin(port));
      try {
        const [rows] = await c.query('SELECT @@server_id AS id, @@read_only AS ro, @@rpl_semi_sync_master_enabled AS semi, @@rpl_semi_sync_master_wait_point AS wp');
        return (rows as Array<{ id: number; ro: number; semi: number; wp: string }>)[0]!;
      } finally {
        await c.end();
      }
    };
    expect(await ask(d.local.ports.dbWriter)).toEqual({ id: 1, ro: 0, semi: 1, wp: 'AFTER_SYNC' });
    expect(await ask(d.local.ports.dbReader)).toEqual({ id: 2, ro: 1, semi: 0, wp: 'AFTER_SYNC' });
    const sock = statePaths(stateDir).haproxySocket;
    const writer = await haproxyServers(sock, 'be_db_writer');
    expect(writer.map((s) => [s.name, s.maint])).toEqual([['db-a', false], ['db-b', true]]);
    expect(JSON.parse(readFileSync(statePaths(stateDir).topology, 'utf8'))).toMatchObject({ primary: 'db-a', replicas: ['db-b'] });
  });

  it('the app user must use TLS (as on Aurora), verified against the region\'s CA; other users are not affected', async () => {
    const port = d.local.ports.dbWriter;
    // Without TLS the server refuses the app user's login (REQUIRE SSL: access denied).
    const plain = await mysql.createConnection(appLogin(port, false)).then(async (c) => { await c.end(); return null; }, (e: { code?: string }) => e);
    expect(plain?.code).toBe('ER_ACCESS_DENIED_ERROR');
    const c = await mysql.createConnection(appLogin(port));
    try {
      const [rows] = await c.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
      expect((rows as Array<{ Value: string }>)[0]!.Value).toMatch(/^TLSv1\.[23]$/);
    } finally {
      await c.end();
    }
    // Verified for real: with Node's public roots instead of the region's CA the client refuses the server.
    const publicRoots = await mysql.createConnection({ ...appLogin(port), ssl: { rejectUnauthorized: true } }).then(async (x) => { await x.end(); return null; }, (e: Error) => e);
    expect(publicRoots?.message).toMatch(/certificate/i);
    // The key is private to the region's user.
    expect(statSync(statePaths(stateDir).tls.key).mode & 0o077).toBe(0);
  });

  it('MariaDB root: socket only, for the OS root user only; the admin, exporter and app users cannot reach beyond their job', async () => {
    const paths = statePaths(stateDir);
    const secrets = loadOrCreateSecrets(paths);
    // The attacker is a local account: nginx's workers run as nobody.
    const asNobody = (args: string[]) => execFileP('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'mariadb', ...args, '-e', 'SELECT CURRENT_USER()'], { timeout: 10_000 })
      .then((r) => `connected: ${r.stdout}`, (e: { stderr?: string }) => e.stderr ?? String(e));
    // 1. Root over TCP, through the writer endpoint and straight at a node: no such account.
    for (const port of [d.local.ports.dbWriter, d.dbNodes[0]!.port]) {
      expect(await asNobody(['-h127.0.0.1', `-P${port}`, '-uroot'])).toMatch(/Access denied for user 'root'@'127\.0\.0\.1'|is not allowed to connect/);
      expect(await asNobody(['-h127.0.0.1', `-P${port}`, '-uroot', '--password='])).toMatch(/Access denied|is not allowed/);
    }
    // 2. The sockets: their folder is the region user's alone, so another uid cannot even connect…
    const sock = dbSocket(paths, d.dbNodes[0]!);
    const sockDir = dirname(sock);
    expect(statSync(sockDir).mode & 0o777).toBe(0o700);
    expect(await asNobody([`--socket=${sock}`, '-uroot'])).toMatch(/Can't connect to local server through socket .*\(13\)/);
    // …and were it reachable, root authenticates by the peer's uid (unix_socket), not by a password.
    chmodSync(sockDir, 0o711);
    try {
      expect(await asNobody([`--socket=${sock}`, '-uroot'])).toMatch(/Access denied for user 'root'@'localhost'/);
    } finally {
      chmodSync(sockDir, 0o700);
    }
    // 3. On every node: root@localhost by unix_socket is the only root, no anonymous account.
    for (const n of d.dbNodes) {
      const rows = await queryNode<{ u: string; h: string; plugin: string }>(dbSocket(paths, n),
        "SELECT User AS u, Host AS h, JSON_VALUE(Priv, '$.plugin') AS plugin FROM mysql.global_priv WHERE User IN ('root', '') ORDER BY Host");
      expect(rows, n.name).toEqual([{ u: 'root', h: 'localhost', plugin: 'unix_socket' }]);
    }
    // 4. The controllers' admin user: replication and read_only, no data and no password hashes.
    const adminLogin = { user: secrets.adminUser, password: secrets.adminPassword };
    expect(await queryNode(sock, 'SELECT @@read_only AS ro', 2_000, adminLogin)).toHaveLength(1);
    await expect(queryNode(sock, 'SELECT * FROM mysql.global_priv', 2_000, adminLogin)).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    await expect(queryNode(sock, `SELECT * FROM \`${d.database.databaseName}\`.users`, 2_000, adminLogin)).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    // 5. The exporter reads status, not tables; the app user cannot lift a replica's fence.
    const exporter = await mysql.createConnection({ host: '127.0.0.1', port: d.local.ports.dbWriter, user: secrets.exporterUser, password: secrets.exporterPassword });
    try {
      await expect(exporter.query('SELECT authentication_string FROM mysql.user')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      const [st] = await exporter.query("SHOW GLOBAL STATUS LIKE 'Uptime'");
      expect(st).toHaveLength(1);
    } finally {
      await exporter.end();
    }
    const app = await mysql.createConnection(appLogin(d.local.ports.dbReader));
    try {
      await expect(app.query('SET GLOBAL read_only = OFF')).rejects.toMatchObject({ code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR' });
    } finally {
      await app.end();
    }
    // The app user has rows and its migrations' DDL, not ALL: no DROP (of a table that does not exist: harmless either way).
    const writer = await mysql.createConnection(appLogin(d.local.ports.dbWriter, true, d.database.databaseName));
    try {
      await expect(writer.query('DROP TABLE IF EXISTS no_such_table')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    } finally {
      await writer.end();
    }
  });

  it('HAProxy serves as an unprivileged user once bound (haproxy, the region running as root); its admin socket is mode 600', () => {
    const lb = readRegion(stateDir).processes.find((p) => p.name === 'lb')!;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${lb.pid}/status`, 'utf8'))![1]);
    const expected = process.getuid!() === 0 ? Number(execFileSync('id', ['-u', 'haproxy'], { encoding: 'utf8' }).trim()) : process.getuid!();
    expect(uid).toBe(expected);
    expect(uid === 0).toBe(false);
    expect(statSync(statePaths(stateDir).haproxySocket).mode & 0o777).toBe(0o600);
  });

  it('the edge caches hashed assets, serves the SPA entry for unknown paths, never caches authenticated API reads', async () => {
    const index = await httpGet(`${edge}/some/client/route`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = /\/assets\/[^"]+\.js/.exec(index.body)?.[0];
    if (asset) {
      await httpGet(`${edge}${asset}`);
      const again = await httpGet(`${edge}${asset}`);
      expect(again.headers['x-cache']).toBe('HIT');
      expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    for (let i = 0; i < 2; i++) {
      const r = await httpGet(`${edge}/api/articles?limit=2`, { headers: { authorization: 'Token x' } });
      expect(r.headers['x-cache']).toBe('MISS');
    }
    // Anonymous public reads may be served from the edge for a few seconds; writes never are.
    const url = `${edge}/api/articles?limit=3&offset=${Date.now() % 7}`;
    await httpGet(url);
    expect((await httpGet(url)).headers['x-cache']).toBe('HIT');
    const post = await httpGet(`${edge}/api/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.headers['x-cache']).toBe('MISS');
  });

  it('a write purges what it changed at the edge before it is acknowledged; only the API may purge', async () => {
    const name = `purge${Date.now()}`;
    const json = { 'content-type': 'application/json' };
    const reg = await httpGet(`${edge}/api/users`, { method: 'POST', headers: json, body: JSON.stringify({ user: { username: name, email: `${name}@example.test`, password: 'correct-horse' } }) });
    const auth = { ...json, authorization: `Token ${JSON.parse(reg.body).user.token}` };
    const created = await httpGet(`${edge}/api/articles`, { method: 'POST', headers: auth, body: JSON.stringify({ article: { title: `Purge ${name}`, description: 'v1', body: 'b' } }) });
    const slug = JSON.parse(created.body).article.slug as string;
    const page = `${edge}/api/articles/${slug}`;
    await httpGet(page);
    const cached = await httpGet(page);
    expect(cached.headers['x-cache']).toBe('HIT');
    // The edge keeps the surrogate keys to itself.
    expect(cached.headers['surrogate-key']).toBeUndefined();
    expect(cached.headers.xkey).toBeUndefined();
    const put = await httpGet(page, { method: 'PUT', headers: auth, body: JSON.stringify({ article: { description: 'v2' } }) });
    expect(put.status).toBe(200);
    const after = await httpGet(page);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(JSON.parse(after.body).article.description).toBe('v2');
    // An empty JSON body on a bodiless write (as many clients send) is fine through the edge too.
    const fav = await httpGet(`${page}/favorite`, { method: 'POST', headers: auth, body: '' });
    expect(fav.status).toBe(200);
    expect(JSON.parse((await httpGet(page)).body).article.favoritesCount).toBe(1);
    // PURGE through the site is refused; the purge listener takes it from the API's address (loopback).
    expect((await httpGet(`${edge}/`, { method: 'PURGE', headers: { 'xkey-purge': 'list' } })).status).toBe(405);
    const purge = await httpGet(`http://127.0.0.1:${d.local.ports.edgePurge}/`, { method: 'PURGE', headers: { 'xkey-purge': 'tags' } });
    expect(purge.status).toBe(200);
  });

  it('answers CORS preflights through the API and keeps them briefly at the edge', async () => {
    const headers = { origin: 'http://client.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization,content-type' };
    const first = await httpGet(`${edge}/api/articles/x/favorite`, { method: 'OPTIONS', headers });
    expect(first.status).toBe(204);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(String(first.headers['access-control-allow-methods'])).toContain('DELETE');
    const second = await httpGet(`${edge}/api/articles/x/favorite`, { method: 'OPTIONS', headers });
    expect(second.headers['x-cache']).toBe('HIT');
    // Another origin's preflight is its own object.
    const other = await httpGet(`${edge}/api/articles/x/favorite`, { method: 'OPTIONS', headers: { ...headers, origin: 'http://other.example' } });
    expect(other.headers['x-cache']).toBe('MISS');
  });

  it('replaces a killed API instance and a killed front instance, and logs why; GETs meanwhile all succeed', async () => {
    // Reads keep flowing through the API load balancer while an instance dies: HAProxy retries
    // the refused connections on another instance.
    let stop = false;
    const statuses: number[] = [];
    const load = Promise.all([0, 1, 2].map(async () => {
      while (!stop) statuses.push((await httpGet(`http://127.0.0.1:${d.local.ports.api}/api/tags`, { timeoutMs: 10_000 }).catch(() => ({ status: 0 }))).status);
    }));
    for (const name of ['api-1', 'front-2']) {
      const before = proc(name);
      process.kill(before.pid!, 'SIGKILL');
      await waitUntil(`${name} replaced`, async () => {
        const now = proc(name);
        return now.pid !== null && now.pid !== before.pid && now.restarts === before.restarts + 1;
      }, 15_000, 100);
      everyPid.push(proc(name).pid!);
      const spec = d[name.startsWith('api') ? 'apiSlots' : 'frontSlots'].find((s) => s.name === name)!;
      const path = name.startsWith('api') ? '/health/ready' : '/';
      await waitUntil(`${name} healthy again`, async () => (await httpGet(`http://127.0.0.1:${spec.port}${path}`).catch(() => ({ status: 0 }))).status === 200, 30_000, 100);
    }
    stop = true;
    await load;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const log = readFileSync(statePaths(stateDir).supervisorLog, 'utf8');
    expect(log).toMatch(/api-1 \(api, zone a\) killed by SIGKILL: replacing it/);
    expect(log).toMatch(/front-2 \(front, zone b\) killed by SIGKILL: replacing it/);
  });

  it('adds an API instance live (healthy first, then in the pool) and removes it (drained first)', async () => {
    const name = await addInstance(d, stateDir, 'api');
    expect(name).toBe('api-3');
    everyPid.push(proc('api-3').pid!);
    const lb = `http://127.0.0.1:${d.local.ports.api}/api/tags`;
    for (let i = 0; i < 30; i++) expect((await httpGet(lb)).status).toBe(200);
    const served = (await haproxyServers(statePaths(stateDir).haproxySocket, 'be_api')).find((s) => s.name === 'api-3')!;
    expect(served.total).toBeGreaterThan(0);
    // A replacement HAProxy starts from the current state: api-3 stays in the pool.
    const lbPid = proc('lb').pid!;
    process.kill(lbPid, 'SIGKILL');
    await waitUntil('lb replaced', async () => proc('lb').pid !== null && proc('lb').pid !== lbPid, 10_000, 50);
    everyPid.push(proc('lb').pid!);
    await waitUntil('api-3 up in the new HAProxy', async () => {
      const servers = await haproxyServers(statePaths(stateDir).haproxySocket, 'be_api').catch(() => []);
      return servers.some((x) => x.name === 'api-3' && x.up && !x.maint);
    }, 15_000, 100);
    const writer = await haproxyServers(statePaths(stateDir).haproxySocket, 'be_db_writer');
    expect(writer.map((x) => [x.name, x.maint])).toEqual([['db-a', false], ['db-b', true]]);
    await removeInstance(d, stateDir, 'api-3', 2_000);
    expect(readRegion(stateDir).processes.find((p) => p.name === 'api-3')).toBeUndefined();
    expect((await haproxyServers(statePaths(stateDir).haproxySocket, 'be_api')).find((s) => s.name === 'api-3')!.status).toBe('MAINT');
    for (let i = 0; i < 10; i++) expect((await httpGet(lb)).status).toBe(200);
  });

  it('replaces a hung API instance (alive but failing its liveness probe)', async () => {
    const before = proc('api-2');
    process.kill(before.pid!, 'SIGSTOP');
    try {
      await waitUntil('api-2 replaced', async () => proc('api-2').pid !== null && proc('api-2').pid !== before.pid, 40_000, 200);
    } finally {
      try { process.kill(before.pid!, 'SIGCONT'); } catch { /* killed */ }
    }
    everyPid.push(proc('api-2').pid!);
    expect(readFileSync(statePaths(stateDir).supervisorLog, 'utf8')).toContain('api-2 failed 5 liveness probes in a row: killing it to replace it');
  }, 60_000);

  it('Redis and Sentinel: no access without credentials; the API\'s ACL user has its keys and commands only; replication, Sentinel and the exporter authenticate', async () => {
    const secrets = loadOrCreateSecrets(statePaths(stateDir));
    const [primary, replica] = d.cacheNodes.map((n) => n.port) as [number, number];
    const cli = redisCli;
    // A local user without the password cannot poison a cache entry, nor read one, nor ask a Sentinel.
    expect(await cli(primary, ['SET', 'conduit:c:x:article:poisoned', '{"article":{}}'])).toMatch(/^NOAUTH/);
    expect(await cli(replica, ['GET', 'conduit:gen'])).toMatch(/^NOAUTH/);
    expect(await cli(d.sentinelNodes[0]!.port, ['SENTINEL', 'get-master-addr-by-name', d.cacheMasterName])).toMatch(/^NOAUTH/);
    // The API's user: its keys, none of the administration.
    const api = (args: string[]) => cli(primary, args, secrets.redisApiUser, secrets.redisApiPassword);
    expect(await api(['SET', 'conduit:acl-test', '1', 'PX', '5000'])).toBe('OK');
    for (const args of [['CONFIG', 'GET', 'requirepass'], ['FLUSHALL'], ['ACL', 'LIST'], ['KEYS', '*'], ['SET', 'elsewhere', '1'], ['SHUTDOWN']]) {
      expect(await api(args), args.join(' ')).toMatch(/^NOPERM/);
    }
    // The API instances use it: a repeated read is a cache hit on the instance.
    const apiPort = proc('api-1').port;
    await httpGet(`http://${d.address}:${apiPort}/api/tags`);
    await httpGet(`http://${d.address}:${apiPort}/api/tags`);
    expect((await httpGet(`http://${d.address}:${apiPort}/metrics`)).body).toMatch(/^cache_operations_total\{[^}]*result="hit"[^}]*\} [1-9]/m);
    // Replication authenticates (masteruser replica): the replica is in sync.
    expect(await cli(replica, ['INFO', 'replication'], 'default', secrets.redisAdminPassword)).toMatch(/master_link_status:up/);
    // The Sentinels reach the nodes (auth-pass) and each other (sentinel-pass): they agree on the primary and see 2 other Sentinels.
    const master = await cli(d.sentinelNodes[0]!.port, ['SENTINEL', 'master', d.cacheMasterName], 'default', secrets.sentinelPassword);
    expect(master).toMatch(/^flags\nmaster$/m);
    expect(master).toMatch(/^num-other-sentinels\n2$/m);
    // The exporter logs in as its own user: redis_up is 1 for every node.
    const metrics = (await httpGet(`http://${d.address}:${d.local.ports.redisExporter}/scrape?target=redis://${d.address}:${replica}`)).body;
    expect(metrics).toMatch(/^redis_up 1$/m);
    expect(proc('redis-exporter').command.join(' ')).not.toContain(secrets.redisExporterPassword);
    // Config files with passwords: mode 600 as written; the ones Redis and Sentinel rewrite (mode 644 then) in a mode 700 folder.
    const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
    const paths = statePaths(stateDir);
    const sentinel = sentinelConfFiles(paths, d.sentinelNodes[0]!);
    for (const f of [redisConfFile(paths, d.cacheNodes[0]!), sentinel.generated]) expect(mode(f), f).toBe('600');
    for (const f of [redisConfFile(paths, d.cacheNodes[0]!), sentinel.live]) expect(mode(dirname(f)), dirname(f)).toBe('700');
  });

  it('Sentinel fails the cache over; the old primary, restarted by the supervisor after that, rejoins as a replica', async () => {
    const primary = proc('redis-1');
    process.kill(primary.pid!, 'SIGKILL');
    const secrets = loadOrCreateSecrets(statePaths(stateDir));
    await waitUntil('Sentinel promotes redis-2', async () => (await sentinelMasterPort(d.sentinelNodes[0]!.port, d.cacheMasterName, 1_000, d.address, secrets.sentinelPassword)) === d.cacheNodes[1]!.port, 15_000, 100);
    const restarted = await waitUntil('redis-1 restarted by the supervisor', () => { const p = proc('redis-1'); return p.pid !== null && p.pid !== primary.pid ? p : null; }, 15_000, 100);
    everyPid.push(restarted.pid!);
    const role = (port: number) => redisRole(port, 1_000, d.address, secrets.redisAdminPassword);
    await waitUntil('redis-1 answers', async () => (await role(d.cacheNodes[0]!.port)) !== null, 10_000, 50);
    // It replicates again (masteruser/masterauth), not just claims the role.
    await waitUntil('redis-1 in sync', async () => /master_link_status:up/.test(await redisCli(d.cacheNodes[0]!.port, ['INFO', 'replication'], 'default', secrets.redisAdminPassword)), 10_000, 100);
    expect(await role(d.cacheNodes[0]!.port)).toBe('slave');
    expect(await role(d.cacheNodes[1]!.port)).toBe('master');
    // The API follows the new primary through Sentinel: reads still answer through the edge.
    expect((await httpGet(`${edge}/api/tags`, { timeoutMs: 10_000 })).status).toBe(200);
  });

  it('runs the DB failover controller: a killed primary is replaced, writes go on, the old one is restarted by the supervisor and rejoins; no API instance leaves the pool', async () => {
    const fullAgain = () => (existsSync(statePaths(stateDir).failoverJournal) ? readFileSync(statePaths(stateDir).failoverJournal, 'utf8').split('full redundancy again after').length - 1 : 0);
    const fullBefore = fullAgain();
    const apiChecksDown = async () => (await haproxyServers(statePaths(stateDir).haproxySocket, 'be_api')).reduce((n, s) => n + s.checksDown, 0);
    const downBefore = await apiChecksDown();
    const old = proc('db-a').pid!;
    process.kill(old, 'SIGKILL');
    await waitUntil('db-b promoted', async () => readRegion(stateDir).topology?.primary === 'db-b', 15_000, 100);
    const name = `failover${Date.now()}`;
    const reg = await httpGet(`${edge}/api/users`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { username: name, email: `${name}@example.com`, password: 'a-long-password-1' } }), timeoutMs: 10_000,
    });
    expect(reg.status, reg.body).toBe(201);
    const restarted = await waitUntil('db-a restarted by the supervisor', () => { const p = proc('db-a'); return p.pid !== null && p.pid !== old ? p : null; }, 15_000, 100);
    everyPid.push(restarted.pid!);
    await waitUntil('db-a replicating from db-b', async () => {
      const r = await tier('status', '--json');
      return JSON.parse(r.stdout).processes.some((p: { name: string; detail: string | null }) => p.name === 'db-a' && p.detail?.startsWith('replicating from :21311'));
    }, 30_000, 500);
    // Back to the definition's redundancy, said by the controller and by `tier status`.
    await waitUntil('full redundancy', () => fullAgain() > fullBefore, 15_000, 200);
    expect((await tier('status')).stdout).toMatch(/^database redundancy: as defined \(since /m);
    // The load balancer checks liveness: the failover failed readiness on every instance at once, and a pool
    // that dropped them would have answered every request 503 for seconds.
    expect(await apiChecksDown()).toBe(downBefore);
  });

  it('re-clones a replica whose data dir is gone (mariadb-backup streamed from a running node), which then rejoins', async () => {
    const replica = readRegion(stateDir).topology!.replicas[0]!;
    const old = proc(replica).pid!;
    process.kill(old, 'SIGKILL');
    rmSync(join(statePaths(stateDir).data, replica), { recursive: true, force: true });
    const restarted = await waitUntil(`${replica} restarted`, () => { const p = proc(replica); return p.pid !== null && p.pid !== old ? p : null; }, 60_000, 100);
    everyPid.push(restarted.pid!);
    expect(readFileSync(statePaths(stateDir).supervisorLog, 'utf8')).toMatch(new RegExp(`${replica}: its data dir was unusable \\(no system tables\\): re-cloned from db-\\w \\(mariadb-backup streamed, GTID 0-\\d+-\\d+`));
    await waitUntil(`${replica} replicating again`, async () => {
      const r = await tier('status', '--json');
      return JSON.parse(r.stdout).processes.some((p: { name: string; detail: string | null }) => p.name === replica && p.detail?.startsWith('replicating from'));
    }, 30_000, 500);
    // It holds what was written before (the user of the failover test), and what is written now reaches it.
    const name = `afterclone${Date.now()}`;
    const reg = await httpGet(`${edge}/api/users`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { username: name, email: `${name}@example.com`, password: 'a-long-password-1' } }), timeoutMs: 10_000,
    });
    expect(reg.status, reg.body).toBe(201);
    const c = await mysql.createConnection({ socketPath: dbSocket(statePaths(stateDir), { name: replica }), user: 'root' });
    try {
      await waitUntil('the new user on the re-cloned replica', async () => {
        const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${d.database.databaseName}\`.users WHERE username LIKE 'failover%' OR username = ?`, [name]);
        return Number((rows as { n: number }[])[0]!.n) >= 2;
      }, 10_000, 200);
    } finally {
      await c.end();
    }
  }, 120_000);

  it('re-clones a replica whose MariaDB no longer starts on its corrupt data dir (a garbled ibdata1), which then rejoins', async () => {
    const replica = readRegion(stateDir).topology!.replicas[0]!;
    const old = proc(replica).pid!;
    const dataDir = join(statePaths(stateDir).data, replica);
    process.kill(old, 'SIGKILL');
    // Its system tablespace's first page overwritten: InnoDB refuses to start ("Inconsistent tablespace ID").
    const fd = openSync(join(dataDir, 'ibdata1'), 'r+');
    writeSync(fd, randomBytes(16384), 0, 16384, 0);
    closeSync(fd);
    const t0 = Date.now();
    await waitUntil(`${replica} re-cloned`, () => /its data dir is corrupt \(mariadbd said: \[ERROR\] InnoDB: Inconsistent tablespace ID in \.\/ibdata1\): re-cloned from db-\w/.test(readFileSync(statePaths(stateDir).supervisorLog, 'utf8')), 60_000, 200);
    const clonedMs = Date.now() - t0;
    await waitUntil(`${replica} replicating again`, async () => {
      const r = await tier('status', '--json');
      return JSON.parse(r.stdout).processes.some((p: { name: string; detail: string | null }) => p.name === replica && p.detail?.startsWith('replicating from'));
    }, 30_000, 500);
    everyPid.push(proc(replica).pid!);
    // The corrupt dir is kept beside the new one, for a post-mortem.
    expect(readdirSync(statePaths(stateDir).data).some((f) => f.startsWith(`${replica}.broken-`))).toBe(true);
    console.log(`[region] corrupt ${replica}: re-cloned ${(clonedMs / 1000).toFixed(1)} s after the kill, replicating ${((Date.now() - t0) / 1000).toFixed(1)} s after it`);
  }, 120_000);

  it('re-clones a replica whose applier stopped on a row it already held (it diverged), which then rejoins', async () => {
    const replica = readRegion(stateDir).topology!.replicas[0]!;
    const primary = readRegion(stateDir).topology!.primary;
    const before = proc(replica).pid!;
    const tag = `diverged${Date.now()}`;
    const root = (name: string) => mysql.createConnection({ socketPath: dbSocket(statePaths(stateDir), { name }), user: 'root', database: d.database.databaseName });
    // The replica gets a row of its own, unlogged (as a write behind the fencing's back would), then the primary
    // writes the same unique name: the applier stops on a duplicate entry (1062) and never resumes by itself.
    const r = await root(replica);
    try {
      await r.query('SET SESSION sql_log_bin = 0');
      await r.query('INSERT INTO tags (name) VALUES (?)', [tag]);
    } finally {
      await r.end();
    }
    const p = await root(primary);
    try {
      await p.query('INSERT INTO tags (name) VALUES (?)', [tag]);
    } finally {
      await p.end();
    }
    const t0 = Date.now();
    const log = () => readFileSync(statePaths(stateDir).supervisorLog, 'utf8');
    await waitUntil(`${replica} re-cloned`, () => new RegExp(`${replica}: the failover controller asked for a new copy \\(its applier stopped on error 1062: .*Duplicate entry .*\\): re-cloned from ${primary}`).test(log()), 60_000, 200)
      .catch((e: Error) => { throw new Error(`${e.message}; the supervisor said:\n${log().split('\n').slice(-25).join('\n')}`); });
    // (The duplicate is the auto-increment id or the name, whichever the applier meets first.)
    expect(log()).toMatch(new RegExp(`re-cloning ${replica}: its applier stopped on error 1062: .*Duplicate entry`));
    await waitUntil(`${replica} replicating again`, async () => {
      const s = await tier('status', '--json');
      return JSON.parse(s.stdout).processes.some((x: { name: string; detail: string | null }) => x.name === replica && x.detail?.startsWith('replicating from'));
    }, 30_000, 500);
    const after = proc(replica).pid!;
    expect(after).not.toBe(before);
    everyPid.push(after);
    // The copy holds the primary's row once, and nothing of the replica's own.
    const c = await root(replica);
    try {
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM tags WHERE name = ?', [tag]);
      expect(Number((rows as { n: number }[])[0]!.n)).toBe(1);
    } finally {
      await c.end();
    }
    console.log(`[region] diverged ${replica}: re-cloned and replicating ${((Date.now() - t0) / 1000).toFixed(1)} s after its applier stopped`);
  }, 120_000);

  describe('rolling deploys', () => {
    const apiLb = `http://127.0.0.1:${d.local.ports.api}`;
    const sources = () => sourceVersion();
    const instances = () => readRegion(stateDir).processes.filter((p) => (p.tier === 'api' || p.tier === 'front') && p.pid !== null);
    const versions = () => Object.fromEntries(instances().map((p) => [p.name, p.version]));
    /** GETs through the API load balancer (not the edge: Varnish would cache them) while fn runs; counts every non-200. */
    async function underLoad<T>(fn: () => Promise<T>): Promise<{ result: T; requests: number; failed: number }> {
      let stop = false;
      let requests = 0;
      let failed = 0;
      const worker = async (path: string) => {
        while (!stop) {
          const r = await httpGet(`${apiLb}${path}`, { timeoutMs: 5_000 }).catch(() => ({ status: 0 }));
          requests += 1;
          if (r.status !== 200) failed += 1;
        }
      };
      const workers = [worker('/api/tags'), worker('/api/articles?limit=2'), worker('/api/articles?limit=1')];
      try {
        return { result: await fn(), requests, failed };
      } finally {
        stop = true;
        await Promise.all(workers);
      }
    }

    it('`tier deploy --version V` replaces every API then front instance zone by zone, under load, 0 failed requests', async () => {
      // A second build of the same sources, under its own version: something to roll out.
      const v = `${sources()}-b`;
      await buildRelease(d, { outDir: join(releaseBuildsDir, v), version: v });
      const before = instances();
      const { result: r, requests, failed } = await underLoad(() => tier('deploy', '--version', v, '--json'));
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report).toMatchObject({ action: 'deploy', from: sources(), to: v, result: 'ok', error: null });
      expect(report.replaced.map((x: { old: string }) => x.old)).toEqual(['api-1', 'api-2', 'front-1', 'front-2']);
      // Each new instance in a spare slot of the old one's zone.
      for (const x of report.replaced) expect(d[`${x.tier as 'api' | 'front'}Slots`].find((s) => s.name === x.new)!.zone).toBe(before.find((p) => p.name === x.old)!.zone);
      expect(report.canaries.map((c: { tier: string; ok: boolean }) => [c.tier, c.ok])).toEqual([['api', true], ['front', true]]);
      expect(Object.values(versions())).toEqual([v, v, v, v]);
      expect(r.stderr).toMatch(/api-3 joined be_api/);
      expect(requests).toBeGreaterThan(50);
      expect(failed, `${failed} of ${requests} failed`).toBe(0);
      expect(readHistory(statePaths(stateDir)).at(-1)).toMatchObject({ version: v, action: 'deploy', result: 'ok', from: sources() });
      const status = await tier('status');
      expect(status.stdout).toMatch(new RegExp(`api-3 .*${v.slice(0, 12)}`));
    }, 120_000);

    it('`tier rollback` returns to the previous release with the same procedure', async () => {
      const { result: r, failed } = await underLoad(() => tier('rollback', '--json'));
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ action: 'rollback', to: sources(), result: 'ok' });
      expect(new Set(Object.values(versions()))).toEqual(new Set([sources()]));
      expect(failed).toBe(0);
    }, 120_000);

    it('a release that never turns ready stops at the first instance: nothing old drained, 0 failed requests', async () => {
      const before = instances().map((p) => [p.name, p.pid]);
      const { result: r, failed } = await underLoad(() => regionDeploy({ definition: d, stateDir, fault: 'never-ready' }));
      expect(r).toMatchObject({ result: 'rolled back', replaced: [] });
      expect(r.error).toContain('healthy');
      expect(instances().map((p) => [p.name, p.pid])).toEqual(before);
      expect(readRegion(stateDir).processes.some((p) => p.version?.includes('fault'))).toBe(false);
      expect(readHistory(statePaths(stateDir)).at(-1)!.result).toMatch(/^failed: /);
      expect(failed).toBe(0);
    }, 120_000);

    it('a release answering 500 on a route is caught by the canary and rolled back', async () => {
      const { result: r, failed, requests } = await underLoad(() => regionDeploy({ definition: d, stateDir, fault: 'error-route' }));
      expect(r.result, JSON.stringify(r.canaries)).toBe('rolled back');
      expect(r.error).toContain('canary analysis failed');
      expect(r.canaries[0]).toMatchObject({ tier: 'api', ok: false });
      const c = r.canaries[0]!.canary;
      expect(c.errors + c.retried).toBeGreaterThan(0);
      expect(new Set(Object.values(versions()))).toEqual(new Set([sources()]));
      // GETs answered 500 by the canary are retried on an old instance by HAProxy (retry-on 500).
      expect(failed, `${failed} of ${requests} failed; the canary failed ${c.errors} + ${c.retried} retried`).toBe(0);
    }, 120_000);
  });

  it('a second `tier up` says the region runs and exits 0', async () => {
    const r = await tier('up');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is already running');
  });

  it('a SIGKILLed supervisor is restarted by the watchdog and adopts every process as it runs; an adopted instance that dies is still replaced', async () => {
    const before = readRegion(stateDir);
    const pids = Object.fromEntries(before.processes.map((p) => [p.name, p.pid]));
    const old = before.supervisor!.pid;
    expect(before.watchdog?.running).toBe(true);
    process.kill(old, 'SIGKILL');
    const killedAt = Date.now();
    await waitUntil('a new supervisor answering', async () => {
      const s = readRegion(stateDir).supervisor;
      return !!s?.running && s.pid !== old && (await supervisorRequest(stateDir, { op: 'list' }, 500).then(() => true, () => false));
    }, 10_000, 50);
    const backMs = Date.now() - killedAt;
    expect(backMs).toBeLessThan(3_000);
    const after = readRegion(stateDir);
    everyPid.push(after.supervisor!.pid, after.watchdog!.pid);
    expect(Object.fromEntries(after.processes.map((p) => [p.name, p.pid]))).toEqual(pids);
    expect(after.watchdog).toMatchObject({ running: true, restarts: 1, supervisorPid: after.supervisor!.pid, lastExit: 'killed by SIGKILL' });
    const status = await tier('status');
    expect(status.stdout).toContain(`supervisor pid ${after.supervisor!.pid}; watchdog pid ${after.watchdog!.pid}, supervisor restarts 1`);
    // Adopted processes are not its children: it polls them, and replaces one that dies as before.
    const api = proc('api-2');
    process.kill(api.pid!, 'SIGKILL');
    await waitUntil('api-2 replaced by the new supervisor', () => proc('api-2').pid !== null && proc('api-2').pid !== api.pid, 10_000, 100);
    everyPid.push(proc('api-2').pid!);
    expect(readFileSync(statePaths(stateDir).supervisorLog, 'utf8')).toMatch(/api-2 \(api, zone b\) gone \(adopted: exit status unknown\): replacing it/);
    console.log(`[region] supervisor SIGKILLed: a new one answered after ${backMs} ms, ${after.processes.length} processes adopted with the same pids`);
  });

  it('`tier logs <component>` prints that component\'s log', async () => {
    const r = await tier('logs', 'supervisor');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('supervisor: pid');
    const bad = await tier('logs', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no log for "nope"');
  });

  it('without the console, the supervisor rotates every log of logs/ at observability.logFileMaxMb into <name>.1', async () => {
    // A real writer's log (O_APPEND): the edge's. Grown past the limit, it is rotated within one check (10 s).
    const file = logFile(statePaths(stateDir), 'edge');
    const max = resolve(small).observability.logFileMaxMb * 1024 * 1024;
    appendFileSync(file, Buffer.alloc(max, 'x\n'));
    await waitUntil('the edge log rotated', () => statSync(file).size < max, 15_000, 250);
    expect(statSync(`${file}.1`).size).toBeGreaterThanOrEqual(max);
    // Said once the whole folder is checked, and the supervisor's line reaches its log a moment after that.
    await waitUntil('the supervisor says so', () => /rotated [^"]*edge\.log at \d+ MB/.test(readFileSync(join(stateDir, 'logs', 'supervisor.log'), 'utf8')), 5_000, 100);
    rmSync(`${file}.1`);
  }, 30_000);

  it('`tier down` stops every process and keeps the data; `tier up` brings it back with the same data', async () => {
    const pids = readRegion(stateDir).processes.map((p) => p.pid!);
    const down = await tier('down');
    expect(down.code, down.stderr).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    const up = await tier('up');
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(up.stdout).not.toContain('seed:'); // seeded once, on the first start
    // The topology survives a restart: the primary the controller chose stays the primary.
    expect(up.stdout).toContain('db-b primary (read-write');
    everyPid.push(...readRegion(stateDir).processes.map((p) => p.pid!));
    const list = await httpGet(`${edge}/api/articles?limit=1`, { timeoutMs: 10_000 });
    expect(JSON.parse(list.body).articlesCount).toBeGreaterThanOrEqual(50);
  });
});
