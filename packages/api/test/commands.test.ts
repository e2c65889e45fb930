// migrate and seed, as functions and as commands; and the writer/reader split.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { DEMO_PASSWORD, migrate, seed } from '../src/index.js';
import { listMigrations } from '../src/db/migrate.js';
import { json, makeApp, register, uid } from './helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');

async function freshDatabase(name: string): Promise<string> {
  const conn = await mysql.createConnection({ uri: inject('mysqlRootUrl') });
  await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await conn.query(`CREATE DATABASE \`${name}\``);
  await conn.end();
  return inject('mysqlUrl').replace(/\/conduit_test$/, `/${name}`);
}

describe('migrate', () => {
  it('applies every migration once, records them, and is safe to run twice (also concurrently)', async () => {
    const url = await freshDatabase('conduit_migrate');
    const all = listMigrations().map((m) => m.version);
    expect(all.length).toBeGreaterThan(0);
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(all);
    expect((await migrate(url)).applied).toEqual([]);
    const conn = await mysql.createConnection({ uri: url });
    const [rows] = await conn.query('SELECT version FROM schema_migrations ORDER BY version');
    await conn.end();
    expect((rows as { version: string }[]).map((r) => r.version)).toEqual(all);
  });

  it('runs as a command reading DATABASE_WRITER_URL', async () => {
    const url = await freshDatabase('conduit_migrate_cmd');
    const env = { PATH: process.env.PATH ?? '', DATABASE_WRITER_URL: url };
    const first = await run(process.execPath, ['--import', 'tsx', 'packages/api/src/commands/migrate.ts'], { cwd: root, env });
    expect(first.stdout).toMatch(/^migrate: applied 0001_initial/);
    const second = await run(process.execPath, ['--import', 'tsx', 'packages/api/src/commands/migrate.ts'], { cwd: root, env });
    expect(second.stdout).toMatch(/nothing to apply/);
    const bad = await run(process.execPath, ['--import', 'tsx', 'packages/api/src/commands/migrate.ts'], { cwd: root, env: { PATH: env.PATH } }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/^migrate: DATABASE_WRITER_URL: missing/) });
  });
});

describe('seed', () => {
  it('loads demo data once (idempotent), and johndoe can log in', async () => {
    const url = await freshDatabase('conduit_seed');
    await migrate(url);
    const first = await seed(url);
    expect(first).toMatchObject({ usersCreated: 5, articlesCreated: 50, users: 5, articles: 50 });
    const second = await seed(url);
    expect(second).toMatchObject({ usersCreated: 0, articlesCreated: 0, users: 5, articles: 50 });
    const out = await run(process.execPath, ['--import', 'tsx', 'packages/api/src/commands/seed.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', DATABASE_WRITER_URL: url } });
    expect(out.stdout).toMatch(/created 0 users and 0 articles \(now 5 users, 50 articles\)/);

    const app = await makeApp({ DATABASE_WRITER_URL: url, REDIS_URL: '' });
    try {
      const login = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: 'johndoe@example.com', password: DEMO_PASSWORD } } });
      expect(login.statusCode).toBe(200);
      const list = json(await app.inject({ url: '/api/articles?limit=50' }));
      expect(list.articlesCount).toBe(50);
      expect(list.articles.every((a: { tagList: string[] }) => a.tagList.length > 0)).toBe(true);
      expect(list.articles.some((a: { favoritesCount: number }) => a.favoritesCount > 0)).toBe(true);
      expect(json(await app.inject({ url: '/api/tags' })).tags.length).toBeGreaterThan(5);
      const auth = { authorization: `Token ${json(login).user.token}` };
      expect(json(await app.inject({ url: '/api/articles/feed', headers: auth })).articlesCount).toBeGreaterThan(0);
      const withComments = await Promise.all(list.articles.slice(0, 6).map((a: { slug: string }) => app.inject({ url: `/api/articles/${a.slug}/comments` })));
      expect(withComments.some((r) => json(r).comments.length > 0)).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('writer and reader endpoints', () => {
  // The "reader" is a database that never receives the writes: a replica lagging forever. Reads that
  // tolerate lag show the reader's content; a user reads their own writes on ANY instance (two apps
  // sharing one Redis, as instances behind the load balancer do).
  it('sends lag-tolerant reads to the reader and lets a writer read its own writes on another instance', async () => {
    const readerUrl = await freshDatabase('conduit_lagging_reader');
    await migrate(readerUrl);
    const [a, b] = [await makeApp({ DATABASE_READER_URL: readerUrl }), await makeApp({ DATABASE_READER_URL: readerUrl })];
    try {
      const u = await register(a);
      const other = await register(a);
      const created = await a.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: `RW ${uid()}`, description: 'd', body: 'b' } } });
      expect(created.statusCode).toBe(201);
      const slug = json(created).article.slug;
      const comment = await a.inject({ method: 'POST', url: `/api/articles/${slug}/comments`, headers: u.auth, payload: { comment: { body: 'mine' } } });
      expect(comment.statusCode).toBe(201);
      // the author just wrote on instance a: their reads on instance b go to the writer
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments`, headers: u.auth })).comments).toHaveLength(1);
      expect(json(await b.inject({ url: '/api/user', headers: u.auth })).user.username).toBe(u.username);
      // anyone else reads the comments the author just wrote as well: the comment marked them written
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments`, headers: other.auth })).comments).toHaveLength(1);
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments` })).comments).toHaveLength(1);
      // comments nobody wrote through the API lately are lag-tolerant: served by the (lagging) reader
      const quiet = json(await a.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: `Quiet ${uid()}`, description: 'd', body: 'b' } } })).article.slug;
      await a.db.writer.query('INSERT INTO comments (article_id, author_id, body) SELECT id, author_id, ? FROM articles WHERE slug = ?', ['direct', quiet]);
      expect(json(await b.inject({ url: `/api/articles/${quiet}/comments`, headers: other.auth })).comments).toHaveLength(0);
      expect(json(await a.inject({ url: `/api/articles/${quiet}/comments`, headers: u.auth })).comments).toHaveLength(1);
      // but a direct link to a brand-new article falls back to the writer instead of a false 404
      expect((await b.inject({ url: `/api/articles/${slug}` })).statusCode).toBe(200);
      expect((await b.inject({ url: `/api/profiles/${u.username}` })).statusCode).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('without Redis, signed-in reads and cache fills go to the writer (nobody can tell who just wrote)', async () => {
    const readerUrl = await freshDatabase('conduit_lagging_reader_2');
    await migrate(readerUrl);
    const [a, b] = [await makeApp({ DATABASE_READER_URL: readerUrl, REDIS_URL: '' }), await makeApp({ DATABASE_READER_URL: readerUrl, REDIS_URL: '' })];
    try {
      const u = await register(a);
      const other = await register(a);
      const tag = `rw${uid()}`;
      const created = await a.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: `RW ${uid()}`, description: 'd', body: 'b', tagList: [tag] } } });
      const slug = json(created).article.slug;
      await a.inject({ method: 'POST', url: `/api/articles/${slug}/comments`, headers: u.auth, payload: { comment: { body: 'mine' } } });
      // another instance cannot know u wrote: every signed-in read uses the writer
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments`, headers: u.auth })).comments).toHaveLength(1);
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments`, headers: other.auth })).comments).toHaveLength(1);
      // what an edge may share (lists, articles) is loaded from the writer too
      expect(json(await b.inject({ url: `/api/articles?tag=${tag}` })).articlesCount).toBe(1);
      // and so do anonymous reads of uncached content (nobody can tell whether it was just written)
      expect(json(await b.inject({ url: `/api/articles/${slug}/comments` })).comments).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
