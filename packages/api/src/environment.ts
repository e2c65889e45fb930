// The API's environment, written by ONE function for everything that starts an API instance: the local
// region's process specs and the AWS boot script. The variable names come from the API's own schema
// (envSchema in config.ts): renaming or adding a variable there fails the type-check here, instead of an
// instance failing at boot on one target only.
// Values are text and are not validated here: on AWS they hold shell variables ($DB_PASSWORD) and Terraform
// references that only exist at boot; loadConfig() validates what the instance finally reads.
import type { z } from 'zod';
import type { Config, envSchema } from './config.js';

/** Every variable the API reads. */
export type ApiEnvName = keyof z.input<typeof envSchema>;

/** What an instance is told, by meaning; the names are this module's business. */
export interface ApiEnvironment {
  databaseWriterUrl: string;
  /** default: the writer */
  databaseReaderUrl?: string;
  /** `rds` or the path of a PEM CA bundle; default: no TLS to the database */
  databaseTlsCa?: string;
  /** default: no cache */
  cache?: { kind: 'url'; url: string } | { kind: 'sentinel'; sentinels: string; masterName: string; username?: string; password?: string; sentinelPassword?: string };
  jwtSecret: string;
  host?: string;
  port?: number | string;
  publicUrl?: string;
  logLevel?: Config['logLevel'];
  instanceId?: string;
  zone?: string;
  cacheTimeoutMs?: number;
  dbPoolSize?: number;
  /** default 3000 ms */
  dbRetryBudgetMs?: number;
  rateLimitAuthPerMin?: number;
  /** default 10 */
  rateLimitLoginPerAccount?: number;
  /** default 60 */
  rateLimitWritesPerMin?: number;
  /** Proxies in front of the instance (definition.apiProxyChain.length); default 0: X-Forwarded-For is not trusted */
  trustedProxyHops?: number;
  /** Comma-separated purge URLs of the edge; default: none (no edge cache to purge) */
  edgePurgeUrls?: string;
  /** Comma-separated origins, or *; default: * */
  corsAllowedOrigins?: string;
  /** GET /health/region's grace after the writer was last writable, in ms; default 0 */
  regionHealthGraceMs?: number;
  /** api.auth.tokenLifetimeHours; default 24 */
  tokenLifetimeHours?: number;
  /** api.auth.recentSignInMinutes; default 10 */
  recentSignInMinutes?: number;
  /** api.auth.scrypt; default N=16384, r=8, p=5 */
  scryptN?: number;
  scryptR?: number;
  scryptP?: number;
  /**
   * api.heap: V8's heap limits, given to node itself (NODE_OPTIONS), and glibc's malloc arenas (MALLOC_ARENA_MAX,
   * 0: not set), not to the API; default: V8's and glibc's own
   */
  heap?: { maxOldSpaceMb: number; maxSemiSpaceMb: number; mallocArenas?: number };
}

type Scalar = Exclude<keyof ApiEnvironment, 'cache' | 'heap'>;

const NAMES = {
  databaseWriterUrl: 'DATABASE_WRITER_URL',
  databaseReaderUrl: 'DATABASE_READER_URL',
  databaseTlsCa: 'DATABASE_TLS_CA',
  jwtSecret: 'JWT_SECRET',
  host: 'HOST',
  port: 'PORT',
  publicUrl: 'PUBLIC_URL',
  logLevel: 'LOG_LEVEL',
  instanceId: 'INSTANCE_ID',
  zone: 'ZONE',
  cacheTimeoutMs: 'CACHE_TIMEOUT_MS',
  dbPoolSize: 'DB_POOL_SIZE',
  dbRetryBudgetMs: 'DB_RETRY_BUDGET_MS',
  rateLimitAuthPerMin: 'RATE_LIMIT_AUTH_PER_MIN',
  rateLimitLoginPerAccount: 'RATE_LIMIT_LOGIN_PER_ACCOUNT',
  rateLimitWritesPerMin: 'RATE_LIMIT_WRITES_PER_MIN',
  trustedProxyHops: 'TRUSTED_PROXY_HOPS',
  edgePurgeUrls: 'EDGE_PURGE_URLS',
  corsAllowedOrigins: 'CORS_ALLOWED_ORIGINS',
  regionHealthGraceMs: 'REGION_HEALTH_GRACE_MS',
  tokenLifetimeHours: 'TOKEN_LIFETIME_HOURS',
  recentSignInMinutes: 'RECENT_SIGN_IN_MINUTES',
  scryptN: 'SCRYPT_N',
  scryptR: 'SCRYPT_R',
  scryptP: 'SCRYPT_P',
} as const satisfies Record<Scalar, ApiEnvName>;

const CACHE_NAMES = {
  url: 'REDIS_URL', sentinels: 'REDIS_SENTINELS', masterName: 'REDIS_MASTER_NAME',
  username: 'REDIS_USERNAME', password: 'REDIS_PASSWORD', sentinelPassword: 'REDIS_SENTINEL_PASSWORD',
} as const satisfies Record<string, ApiEnvName>;

// Every variable of the schema is written by this module: a new one in envSchema fails here until it is mapped.
type Unmapped = Exclude<ApiEnvName, (typeof NAMES)[Scalar] | (typeof CACHE_NAMES)[keyof typeof CACHE_NAMES]>;
const everyVariableMapped: [Unmapped] extends [never] ? true : { unmapped: Unmapped } = true;
void everyVariableMapped;

/**
 * The environment of an API instance, ready for a process spec or an environment file. NODE_ENV=production
 * is added: libraries read it; the API itself does not. NODE_OPTIONS carries the heap limits and MALLOC_ARENA_MAX
 * the malloc arenas: node and glibc read them however the instance is started (the supervisor locally, systemd on AWS).
 */
export function apiEnvironment(e: ApiEnvironment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(NAMES) as Scalar[]) {
    const value = e[key];
    if (value !== undefined) out[NAMES[key]] = String(value);
  }
  if (e.cache?.kind === 'url') out[CACHE_NAMES.url] = e.cache.url;
  if (e.cache?.kind === 'sentinel') {
    out[CACHE_NAMES.sentinels] = e.cache.sentinels;
    out[CACHE_NAMES.masterName] = e.cache.masterName;
    for (const k of ['username', 'password', 'sentinelPassword'] as const) {
      const v = e.cache[k];
      if (v !== undefined) out[CACHE_NAMES[k]] = v;
    }
  }
  if (e.heap) out.NODE_OPTIONS = `--max-old-space-size=${e.heap.maxOldSpaceMb} --max-semi-space-size=${e.heap.maxSemiSpaceMb}`;
  if (e.heap?.mallocArenas) out.MALLOC_ARENA_MAX = String(e.heap.mallocArenas);
  out.NODE_ENV = 'production';
  return out;
}
