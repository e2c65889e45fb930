// Migrations are expand/contract: the previous release's API must keep working on the schema after the new
// migrations (a deploy migrates first, then replaces instances; until the last old instance is gone, and after
// any rollback, the previous release runs on the new schema). Given the previous release rebuilt from git
// (PREVIOUS_RELEASE, default HEAD~1: the release deploy.yml shipped before this commit) and a real MariaDB
// migrated with this commit's migrations, when the previous release's bundled API (plain node, its own
// artifact) serves every operation of the RealWorld contract, then each answers with its contract status.
// And a contracting migration (a dropped column the previous release reads) is caught.
// Needs git history: a shallow clone stops with a sentence saying how to fetch it. Ports 26600-26601; runs
// under the port lock.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir } from '@conduit/api';
import { startMariaDb, stopProcess, waitForPort, type ServerHandle } from '@conduit/testkit';
import { PreviousReleaseError, buildTreeRelease, extractTree, previousCommit } from '../src/previous.js';

const PORTS = { mariadb: 26600, api: 26601 };
const root = fileURLToPath(new URL('../../..', import.meta.url));
// Inside the checkout, so the extracted tree resolves its third-party dependencies from node_modules.
const work = join(root, '.test-state', 'expand-contract');
let previous: string;
let api: string;
let db: ServerHandle | undefined;
const url = (database: string) => `mysql://root@127.0.0.1:${PORTS.mariadb}/${database}`;

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  const commit = previousCommit(root, process.env.PREVIOUS_RELEASE ?? 'HEAD~1');
  if (commit === null) throw new Error('this repository has one commit: there is no previous release to check against');
  previous = commit;
  const tree = join(work, 'tree');
  extractTree(root, previous, tree);
  const started = performance.now();
  const out = buildTreeRelease(tree, join(work, 'release'), previous);
  console.log(`expand/contract: previous release ${previous.slice(0, 12)} built from git in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  api = join(work, 'previous-api');
  mkdirSync(api, { recursive: true });
  execFileSync('tar', ['-xzf', join(out, 'api', 'current.tar.gz'), '-C', api]);
  // Built from the extracted tree, not from this checkout (whose commit git would otherwise report).
  expect(JSON.parse(readFileSync(join(api, 'release.json'), 'utf8')).version).toBe('unknown');
  db = await startMariaDb({ port: PORTS.mariadb, dir: join(work, 'mariadb'), database: 'conduit' });
  execFileSync('mariadb', [`--socket=${join(work, 'mariadb', 'mysqld.sock')}`, '-uroot', '-e', 'CREATE DATABASE contracted']);
}, 600_000);

afterAll(async () => {
  await db?.stop();
});

/** Starts the previous release's server.mjs on `database`, runs every contract operation, returns what broke. */
async function exercisePrevious(database: string): Promise<string[]> {
  const server = spawn(process.execPath, ['server.mjs'], {
    cwd: api, detached: true, stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', DATABASE_WRITER_URL: url(database), JWT_SECRET: 'expand-contract-secret-0123456789abcdef', HOST: '127.0.0.1', PORT: String(PORTS.api), LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(PORTS.api, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: the previous release did not start:\n${stderr}`);
    });
    return await contractScenario(`http://127.0.0.1:${PORTS.api}`);
  } finally {
    await stopProcess(server);
  }
}

/** Every operation of the RealWorld contract once, with the status the contract gives it. */
async function contractScenario(base: string): Promise<string[]> {
  const problems: string[] = [];
  const call = async (method: string, path: string, expected: number, opts: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Token ${opts.token}` } : {}) },
      ...(opts.body ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    if (res.status !== expected) problems.push(`${method} ${path.replace(/\?.*/, '')}: ${res.status}, the contract says ${expected} (${text.slice(0, 120)})`);
    return (text ? JSON.parse(text) : {}) as any;
  };
  const id = Date.now().toString(36);
  const a = (await call('POST', '/api/users', 201, { body: { user: { username: `ec-a-${id}`, email: `ec-a-${id}@example.com`, password: 'a-long-password-1' } } })).user;
  const b = (await call('POST', '/api/users', 201, { body: { user: { username: `ec-b-${id}`, email: `ec-b-${id}@example.com`, password: 'a-long-password-1' } } })).user;
  await call('POST', '/api/users', 422, { body: { user: { username: '', email: 'not-an-email', password: '' } } });
  if (!a?.token || !b?.token) return [...problems, 'registration gave no token: nothing else can be exercised'];
  await call('POST', '/api/users/login', 200, { body: { user: { email: `ec-a-${id}@example.com`, password: 'a-long-password-1' } } });
  await call('GET', '/api/user', 200, { token: a.token });
  await call('PUT', '/api/user', 200, { token: a.token, body: { user: { bio: 'expand, then contract' } } });
  await call('GET', `/api/profiles/${a.username}`, 200);
  await call('POST', `/api/profiles/${a.username}/follow`, 200, { token: b.token });
  const article = (await call('POST', '/api/articles', 201, { token: a.token, body: { article: { title: `Expand ${id}`, description: 'a description the previous release reads', body: 'body', tagList: [`ec${id}`] } } })).article;
  if (!article?.slug) return [...problems, 'creating an article gave no slug: nothing else can be exercised'];
  const read = (await call('GET', `/api/articles/${article.slug}`, 200)).article;
  if (read?.description !== 'a description the previous release reads') problems.push(`GET /api/articles/:slug: description is ${JSON.stringify(read?.description)}`);
  await call('PUT', `/api/articles/${article.slug}`, 200, { token: a.token, body: { article: { body: 'changed' } } });
  await call('GET', `/api/articles?tag=ec${id}&author=${a.username}&limit=5&offset=0`, 200);
  await call('GET', '/api/articles/feed', 200, { token: b.token });
  await call('POST', `/api/articles/${article.slug}/favorite`, 200, { token: b.token });
  await call('GET', `/api/articles?favorited=${b.username}`, 200);
  await call('DELETE', `/api/articles/${article.slug}/favorite`, 200, { token: b.token });
  const comment = (await call('POST', `/api/articles/${article.slug}/comments`, 201, { token: b.token, body: { comment: { body: 'still works' } } })).comment;
  await call('GET', `/api/articles/${article.slug}/comments`, 200);
  if (comment?.id !== undefined) await call('DELETE', `/api/articles/${article.slug}/comments/${comment.id}`, 204, { token: b.token });
  await call('GET', '/api/tags', 200);
  await call('DELETE', `/api/profiles/${a.username}/follow`, 200, { token: b.token });
  await call('DELETE', `/api/articles/${article.slug}`, 204, { token: a.token });
  return problems;
}

describe('expand/contract: the previous release on the schema after the new migrations', () => {
  it('serves every contract operation with its contract status', async () => {
    const { applied } = await migrate(url('conduit'), { dir: migrationsDir });
    expect(applied.length).toBeGreaterThan(0);
    expect(await exercisePrevious('conduit')).toEqual([]);
  }, 120_000);

  it('catches a contracting migration (a column the previous release still reads is dropped)', async () => {
    const dir = join(work, 'contracting-migrations');
    cpSync(migrationsDir, dir, { recursive: true });
    writeFileSync(join(dir, '9999_contract_too_early.sql'), 'ALTER TABLE articles DROP COLUMN description;\n');
    await migrate(url('contracted'), { dir });
    const problems = await exercisePrevious('contracted');
    expect(problems).toContainEqual(expect.stringMatching(/^POST \/api\/articles: 500, the contract says 201/));
  }, 120_000);

  it('says what to do in a shallow clone, which has no previous release', () => {
    const shallow = join(work, 'shallow');
    const r = spawnSync('git', ['clone', '--quiet', '--depth', '1', `file://${root}`, shallow], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(() => previousCommit(shallow)).toThrow(PreviousReleaseError);
    expect(() => previousCommit(shallow)).toThrow(/is not in this clone: it is shallow .*fetch the history \(git fetch --unshallow\)/);
    expect(() => previousCommit(root, 'no-such-ref')).toThrow(/no-such-ref names no commit of this repository: set PREVIOUS_RELEASE/);
  });
});
