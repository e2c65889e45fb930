// Builds the release for real into a temp folder, checks both tarballs against their release.json, then runs
// the bundled API with plain node (no tsx, no node_modules beside it) on a throwaway MariaDB and Redis.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { assertPortFree, startMariaDb, startRedis, stopProcess, waitForPort, type ServerHandle } from '@conduit/testkit';
import { buildRelease, type ReleaseResult } from '../src/index.js';
import config from '../../../stack.config.js';

const PORTS = { mariadb: 24510, redis: 24511, api: 24512 };
const tmp = mkdtempSync(join(tmpdir(), 'conduit-release-'));
const out = join(tmp, 'out');
const d = resolve(config);
let result: ReleaseResult;
const unpacked: Record<'api' | 'front', string> = { api: join(tmp, 'api'), front: join(tmp, 'front') };
const started: ServerHandle[] = [];
let api: ChildProcess | undefined;

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const list = (tarball: string) => execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.endsWith('/')).map((l) => l.replace(/^\.\//, '')).sort();

beforeAll(async () => {
  const lines: string[] = [];
  result = await buildRelease(d, { outDir: out, log: (l) => lines.push(l), version: 'test-version' });
  expect(lines.some((l) => l.startsWith('[release] api: bundle'))).toBe(true);
  for (const tier of ['api', 'front'] as const) {
    mkdirSync(unpacked[tier], { recursive: true });
    execFileSync('tar', ['-xzf', join(out, tier, 'current.tar.gz'), '-C', unpacked[tier]]);
  }
});

afterAll(async () => {
  if (api && api.exitCode === null) await stopProcess(api);
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

describe('tier release: artifacts', () => {
  it('packs api/current.tar.gz with server.mjs, migrate.mjs, the migrations and release.json', () => {
    const files = list(join(out, 'api', 'current.tar.gz'));
    expect(files).toEqual(expect.arrayContaining(['server.mjs', 'migrate.mjs', 'migrations/0001_initial.sql', 'release.json', 'swagger-ui/static/logo.svg']));
    expect(files.some((f) => f.startsWith('node_modules/'))).toBe(false);
    // ASCII only: a single character above U+00FF would make V8 hold the 5 MB source as a two-byte string.
    for (const f of ['server.mjs', 'migrate.mjs']) expect(/[^\x00-\x7f]/.test(readFileSync(join(unpacked.api, f), 'utf8'))).toBe(false);
  });

  it('packs front/current.tar.gz with the built SPA and the nginx server block', () => {
    const files = list(join(out, 'front', 'current.tar.gz'));
    expect(files).toEqual(expect.arrayContaining(['site/index.html', 'nginx.conf', 'release.json']));
    expect(files.some((f) => /^site\/assets\/.+\.js$/.test(f))).toBe(true);
    const conf = readFileSync(join(unpacked.front, 'nginx.conf'), 'utf8');
    expect(conf).toContain('listen 8080;');
    expect(conf).toContain(`root /opt/${d.name}/front/site;`);
    expect(conf).toContain('add_header Cache-Control "public, max-age=31536000, immutable";');
    expect(conf).toContain('try_files $uri /index.html;');
    expect(conf).toContain('add_header Cache-Control "no-cache" always;');
  });

  it('is accepted by nginx -t inside an http block (as /etc/nginx/conf.d includes it)', () => {
    const conf = join(tmp, 'nginx-t.conf');
    writeFileSync(conf, `pid ${tmp}/nginx.pid;\nerror_log ${tmp}/nginx-t.log;\nevents {}\nhttp {\n    include /etc/nginx/mime.types;\n    include ${join(unpacked.front, 'nginx.conf')};\n}\n`);
    execFileSync('nginx', ['-t', '-p', tmp, '-e', join(tmp, 'nginx-t.log'), '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  });

  it('lists every other file of each artifact in release.json with its sha256, version and build time', () => {
    for (const tier of ['api', 'front'] as const) {
      const manifest = JSON.parse(readFileSync(join(unpacked[tier], 'release.json'), 'utf8'));
      expect(manifest).toMatchObject({ tier, version: 'test-version' });
      expect(Number.isNaN(Date.parse(manifest.builtAt))).toBe(false);
      const inTar = list(join(out, tier, 'current.tar.gz')).filter((f) => f !== 'release.json');
      expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(inTar);
      for (const f of manifest.files) expect(sha(join(unpacked[tier], f.path)), f.path).toBe(f.sha256);
      const artifact = result.artifacts.find((a) => a.tier === tier)!;
      expect(artifact.sha256).toBe(sha(join(out, tier, 'current.tar.gz')));
    }
  });
});

describe('tier release: the bundled API runs with plain node', () => {
  it('migrates with migrate.mjs, then server.mjs answers /health/ready, registers and reads a user', async () => {
    const dbDir = join(tmp, 'mariadb');
    started.push(await startMariaDb({ port: PORTS.mariadb, dir: dbDir, database: 'conduit' }));
    started.push(await startRedis({ port: PORTS.redis, dir: join(tmp, 'redis') }));
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_WRITER_URL: `mysql://root@127.0.0.1:${PORTS.mariadb}/conduit`,
      REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
      JWT_SECRET: 'release-test-secret-0123456789abcdef0123456789',
      HOST: '127.0.0.1',
      PORT: String(PORTS.api),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
    };
    // Run from a folder with no node_modules anywhere above (the temp dir): the bundle must be self-contained.
    const migrated = execFileSync(process.execPath, ['migrate.mjs'], { cwd: unpacked.api, env, encoding: 'utf8' });
    expect(migrated).toContain('migrate: applied 0001_initial');

    // Its own process group (stopProcess signals the group), and never a stranger's server on the port.
    await assertPortFree(PORTS.api, 'bundled API');
    api = spawn(process.execPath, ['server.mjs'], { cwd: unpacked.api, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    api.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    await waitForPort(PORTS.api, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    const base = `http://127.0.0.1:${PORTS.api}`;
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);

    const reg = await fetch(`${base}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { username: 'release-tester', email: 'release@example.com', password: 'a-long-password-1' } }),
    });
    const regBody = (await reg.json()) as { user: { token: string; username: string } };
    expect(reg.status, JSON.stringify(regBody)).toBe(201);
    const me = await fetch(`${base}/api/user`, { headers: { authorization: `Token ${regBody.user.token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe('release@example.com');

    const docs = await fetch(`${base}/api/docs/static/logo.svg`);
    expect(docs.status).toBe(200);

    await stopProcess(api);
    expect(api.exitCode, stderr).toBe(0); // drained and exited cleanly on SIGTERM
  });
});
