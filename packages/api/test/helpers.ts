// Test helpers: an app against the project's MariaDB/Redis, unique users, and request shortcuts.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';

export const JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_WRITER_URL: inject('mysqlUrl'),
    REDIS_URL: inject('redisUrl'),
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT: '100000',
    RATE_LIMIT_WRITES_PER_MIN: '100000',
    CACHE_TIMEOUT_MS: '200',
    // The previous cost (a fifth of OWASP's CPU): hundreds of sign-ups per run. unit.test.ts covers the default.
    SCRYPT_P: '1',
    ...env,
  });
}

export async function makeApp(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = buildApp(testConfig(env), { logger: false });
  await app.ready();
  return app;
}

export const uid = () => randomBytes(5).toString('hex');

export interface TestUser {
  username: string;
  email: string;
  password: string;
  token: string;
  auth: { authorization: string };
}

export async function register(app: FastifyInstance, prefix = 'u'): Promise<TestUser> {
  const username = `${prefix}${uid()}`;
  const email = `${username}@example.test`;
  const password = 'correct-horse';
  const res = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username, email, password } } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const token = res.json().user.token as string;
  return { username, email, password, token, auth: { authorization: `Token ${token}` } };
}

export interface ArticleInput {
  title?: string;
  description?: string;
  body?: string;
  tagList?: string[];
}

export async function createArticle(app: FastifyInstance, user: TestUser, a: ArticleInput = {}): Promise<{ slug: string; [k: string]: unknown }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/articles',
    headers: user.auth,
    payload: { article: { title: `Title ${uid()}`, description: 'desc', body: 'body text', ...a } },
  });
  if (res.statusCode !== 201) throw new Error(`create article failed: ${res.statusCode} ${res.body}`);
  return res.json().article;
}

export const json = (res: LightMyRequestResponse) => res.json() as Record<string, any>;

/** Sends SIGSTOP and waits until every thread of the process is stopped (state T in /proc). */
export async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const { readdirSync, readFileSync } = await import('node:fs');
  for (let i = 0; i < 200; i++) {
    const states = readdirSync(`/proc/${pid}/task`).map((t) => {
      try {
        return readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]![0];
      } catch {
        return 'T';
      }
    });
    if (states.every((s) => s === 'T' || s === 't')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not stop`);
}
