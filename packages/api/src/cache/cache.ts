// Cache-aside over Redis that never makes a request fail.
//
// - Every command has a time budget (ioredis commandTimeout) and no offline queue: a slow or absent Redis
//   costs at most CACHE_TIMEOUT_MS, then the caller reads MariaDB.
// - A circuit breaker stops calling Redis after consecutive failures and probes it again later;
//   state changes are logged once (not per request).
// - Invalidation is by generation: every cached key embeds the current generation, and a write that
//   changes cached content sets a new generation. Entries of older generations are never read again
//   (and expire by TTL), so a load that raced with a write cannot resurrect stale data.
// - A cold key is loaded once: concurrent misses in this process share one load (single flight), and
//   across processes a short Redis lock lets one loader fill the key while the others wait briefly.
// - Right after a generation change, loads read the writer (a lagging replica must not refill the cache
//   with the old content).
// - Versioned values (`getVersioned`): kept in process memory only, each valid while its own version key in
//   Redis is unchanged (read with the near-cache generation check of the same event-loop turn). A write of that
//   value sets a new version (`bumpVersion`), so every instance reloads it at its next read; a version is never
//   reused (a missing key gets a fresh one), and a reconnect or a closed breaker drops them all (`epoch`), as
//   a failover may land on a primary that missed the last bumps.
import { Redis, type RedisOptions } from 'ioredis';
import type { CacheConfig } from '../config.js';

export interface CacheEvents {
  hit(): void;
  miss(): void;
  error(): void;
  breaker(open: boolean): void;
}

export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface CacheOptions {
  timeoutMs: number;
  /** Consecutive failures that open the breaker; default 3. */
  failureThreshold?: number;
  /** How long the breaker stays open before one probe; default 1000 ms. */
  openMs?: number;
  /** Key prefix; default "conduit:". */
  prefix?: string;
  /** Entries also kept in process memory (validated against the generation on every read); default 500. */
  nearEntries?: number;
  /** How much the versioned values kept in process memory may weigh in all (see getVersioned); default 100,000. */
  versionedBudget?: number;
  logger?: CacheLogger;
  events?: Partial<CacheEvents>;
}

/** Loads from the database; `fromWriter` asks for the writer (the content just changed, or Redis cannot say). */
export type Loader = (fromWriter: boolean) => Promise<string>;

// The current generation in `g`; a missing one (first start, Redis restarted, key evicted) is replaced by the
// fresh one the caller proposes in ARGV[n], never by a fixed value: entries of a past generation must not
// become readable again.
const currentOrFresh = (n: number) => `
local g = redis.call('GET', KEYS[1])
if not g then
  g = ARGV[${n}]
  redis.call('SET', KEYS[1], g)
end
`;

// One round trip: the current generation and the entry of `key` in it.
const GET_WITH_GEN = `${currentOrFresh(3)}return {g, redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])}`;

// The check of one event-loop turn: the current generation (KEYS[1]) and the version of every versioned value
// asked for in that turn (KEYS[2..]). A missing version (never written, evicted, expired) gets a fresh one too,
// expiring after ARGV[2] s, so a value remembered under a past version can never match again.
const CHECK_TURN = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    v = ARGV[1]
    if i == 1 then redis.call('SET', key, v) else redis.call('SET', key, v, 'EX', ARGV[2]) end
  end
  out[i] = v
end
return out
`;

// A fixed-window counter: the window starts with its first hit and the key expires with it.
const COUNT_IN_WINDOW = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

type RedisWithScript = Redis & {
  getWithGen(genKey: string, prefix: string, key: string, fresh: string): Promise<[string, (string | null)?]>;
  /** numKeys, then the generation key and the version keys, then the fresh value and the versions' ttl. */
  checkTurn(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<string[]>;
  countInWindow(key: string, windowMs: number): Promise<[number, number]>;
};

/** A version key lives this long without a write (then a fresh one starts: one reload per instance). */
const VERSION_TTL_S = 86_400;
/** Right after a generation or version change, loads read the writer (a lagging replica may not have the write). */
const FRESH_MS = 3_000;
const ageMs = (version: string) => Date.now() - Number(version.split('-')[0]);

const newGeneration = () => `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;

export function createRedisClient(cfg: CacheConfig, timeoutMs: number): Redis | null {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(500, timeoutMs * 10),
    maxRetriesPerRequest: 0,
    // Keep reconnecting forever, backing off up to 1 s: Redis may come back (or a replica be promoted).
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
    // Commands issued in the same event-loop turn (concurrent requests) share one socket write.
    enableAutoPipelining: true,
  };
  if (cfg.kind === 'url') return new Redis(cfg.url, common);
  if (cfg.kind === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: cfg.sentinels,
      name: cfg.masterName,
      username: cfg.auth.username,
      password: cfg.auth.password,
      sentinelPassword: cfg.auth.sentinelPassword,
      // Subscribe to +switch-master so a failover is followed without waiting for an error.
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1_000),
    });
  }
  return null;
}

export type CacheStatus = 'up' | 'down' | 'disabled';

/** Seconds an entry lives: fixed, or chosen from the loaded value (e.g. short for "not found"). */
export type Ttl = number | ((raw: string) => number);
const ttlOf = (ttl: Ttl, raw: string) => (typeof ttl === 'number' ? ttl : ttl(raw));

export class Cache {
  private readonly client: RedisWithScript | null;
  private readonly prefix: string;
  private readonly genKey: string;
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private failures = 0;
  private openUntil = 0;
  private open = false;
  private probing = false;
  private pendingBump = false;
  private readonly inflight = new Map<string, Promise<string>>();
  /** Near cache: key -> the value of one generation. Read only when Redis confirms that generation is current. */
  private readonly near = new Map<string, { gen: string; value: unknown; expires: number }>();
  private readonly nearEntries: number;
  /**
   * The check shared by the near-cache hits and the versioned reads of this event-loop turn (turnCheck()): the
   * keys it asks for (the generation first, then each version key once) and its answer, in that order.
   */
  private turn: { keys: string[]; index: Map<string, number>; answer: Promise<string[] | undefined> } | null = null;
  private readonly log: CacheLogger;
  private readonly ev: CacheEvents;
  /** Versioned values (process memory only): key -> the value of one version, loaded in one trust epoch. */
  private readonly versioned = new Map<string, { version: string; epoch: number; value: unknown; expires: number; weight: number }>();
  private readonly versionedBudget: number;
  private versionedWeight = 0;
  private readonly versionLoads = new Map<string, Promise<unknown>>();
  /** Version bumps Redis did not take: sent again with the next versioned read. */
  private readonly pendingVersions = new Set<string>();
  /**
   * Incremented whenever Redis may have lost writes this process relied on (a reconnect: maybe a failover to
   * a primary that missed the last bumps; the breaker closing): versioned values of an older epoch are reloaded.
   */
  private epoch = 0;

  constructor(client: Redis | null, opts: CacheOptions) {
    this.prefix = opts.prefix ?? 'conduit:';
    this.genKey = `${this.prefix}gen`;
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.openMs = opts.openMs ?? 1_000;
    this.nearEntries = opts.nearEntries ?? 500;
    this.versionedBudget = opts.versionedBudget ?? 100_000;
    this.log = opts.logger ?? { warn: () => undefined, info: () => undefined };
    const noop = () => undefined;
    this.ev = { hit: noop, miss: noop, error: noop, breaker: noop, ...opts.events };
    if (client) {
      client.defineCommand('getWithGen', { numberOfKeys: 1, lua: GET_WITH_GEN });
      client.defineCommand('checkTurn', { lua: CHECK_TURN });
      client.defineCommand('countInWindow', { numberOfKeys: 1, lua: COUNT_IN_WINDOW });
      // Without a listener an 'error' event would crash the process; the breaker reports outages.
      client.on('error', () => undefined);
      // A reconnect may land on another primary (a Sentinel failover) whose generation key is older than
      // the last bumps (replication is asynchronous): entries of that generation may be stale. Nothing
      // cached is trusted until a new generation is set.
      let connected = client.status === 'ready';
      client.on('ready', () => {
        if (connected) {
          this.pendingBump = true;
          this.epoch++;
        }
        connected = true;
      });
      this.client = client as RedisWithScript;
    } else {
      this.client = null;
    }
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  status(): CacheStatus {
    if (!this.client) return 'disabled';
    return !this.open && this.client.status === 'ready' ? 'up' : 'down';
  }

  /** True when a call may go to Redis now (breaker closed, or this call is the half-open probe). */
  private allow(): boolean {
    if (!this.client) return false;
    if (!this.open) return true;
    if (Date.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  private ok(): void {
    this.failures = 0;
    this.probing = false;
    if (this.open) {
      this.open = false;
      this.ev.breaker(false);
      this.log.info({ cache: 'up' }, 'cache reachable again: circuit closed');
      // Writes made (here or on another instance) while Redis was unreachable may not have changed the
      // generation: start a new one before the next read trusts an entry.
      this.pendingBump = true;
      this.epoch++;
    }
  }

  private fail(err: unknown): void {
    this.ev.error();
    this.failures++;
    this.probing = false;
    if (this.open) {
      this.openUntil = Date.now() + this.openMs;
    } else if (this.failures >= this.failureThreshold) {
      this.open = true;
      this.openUntil = Date.now() + this.openMs;
      this.ev.breaker(true);
      this.log.warn({ cache: 'down', err: (err as Error)?.message }, 'cache unavailable: circuit open, serving from the database');
    }
  }

  private async call<T>(fn: (c: RedisWithScript) => Promise<T>): Promise<T | undefined> {
    if (!this.allow()) return undefined;
    try {
      const r = await fn(this.client!);
      this.ok();
      return r;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /**
   * The cached value of `key` in the current generation, or the loader's result (then stored for ttlSec).
   * Never throws because of Redis; loader errors propagate.
   */
  async getOrLoad(key: string, ttlSec: Ttl, loader: Loader): Promise<{ value: string; hit: boolean }>;
  /** Same, with the value decoded once per process and generation (the near cache keeps the decoded form). */
  async getOrLoad<T>(key: string, ttlSec: Ttl, loader: Loader, decode: (raw: string) => T): Promise<{ value: T; hit: boolean }>;
  async getOrLoad<T>(key: string, ttlSec: Ttl, loader: Loader, decode: (raw: string) => T = (raw) => raw as T): Promise<{ value: T; hit: boolean }> {
    // Without Redis nobody can tell whether this content was just written (here or on another instance):
    // load it from the writer, so that a lagging replica never hands out (and an edge never keeps) old content.
    if (this.pendingBump) {
      await this.bump();
      if (this.pendingBump) return { value: decode(await loader(true)), hit: false };
    }
    const local = this.near.get(key);
    if (local !== undefined && local.expires > Date.now()) {
      // A copy in memory: valid while its generation is the current one (one check for this turn's hits).
      const current = await this.turnCheck(null);
      if (current === undefined) return { value: decode(await loader(true)), hit: false };
      if (current === local.gen) {
        this.ev.hit();
        return { value: local.value as T, hit: true };
      }
    }
    const r = await this.call((c) => c.getWithGen(this.genKey, `${this.prefix}c:`, key, newGeneration()));
    if (r === undefined) return { value: decode(await loader(true)), hit: false };
    const [gen, cached] = r;
    if (cached !== null && cached !== undefined) {
      this.ev.hit();
      return { value: this.remember(key, gen, cached, decode, ttlSec), hit: true };
    }
    this.ev.miss();
    const full = `${this.prefix}c:${gen}:${key}`;
    let p = this.inflight.get(full);
    const mine = p === undefined;
    if (mine) {
      p = this.fill(full, gen, ttlSec, loader);
      this.inflight.set(full, p);
    }
    try {
      return { value: this.remember(key, gen, await p!, decode, ttlSec), hit: false };
    } finally {
      if (mine) this.inflight.delete(full);
    }
  }

  /**
   * The current generation (versionKey null) or the current version of a versioned value, asked of Redis in
   * one command for every caller of one event-loop turn: it is issued from setImmediate, after the I/O of that
   * turn, so it reaches Redis after each of those callers' requests arrived, and a write acknowledged before
   * any of them arrived is seen by all of them (as with a command of their own). Under load this is one Redis
   * command per turn instead of one per cached read and one per signed-in read.
   * undefined: Redis cannot say (then the callers read the database, as getOrLoad does on any failure).
   */
  private turnCheck(versionKey: string | null): Promise<string | undefined> {
    let t = this.turn;
    if (t === null) {
      const keys = [this.genKey];
      const turn = { keys, index: new Map<string, number>(), answer: new Promise<string[] | undefined>((resolve) => {
        setImmediate(() => {
          this.turn = null;
          resolve(this.call((c) => c.checkTurn(keys.length, ...keys, newGeneration(), VERSION_TTL_S)));
        });
      }) };
      t = this.turn = turn;
    }
    let i = 0;
    if (versionKey !== null) {
      i = t.index.get(versionKey) ?? t.keys.push(versionKey) - 1;
      t.index.set(versionKey, i);
    }
    return t.answer.then((a) => a?.[i]);
  }

  private remember<T>(key: string, gen: string, raw: string, decode: (raw: string) => T, ttlSec: Ttl): T {
    const local = this.near.get(key);
    if (local !== undefined && local.gen === gen) return local.value as T;
    const value = decode(raw);
    if (this.nearEntries === 0 || raw.length > 64 * 1024) return value;
    this.near.delete(key);
    if (this.near.size >= this.nearEntries) this.near.delete(this.near.keys().next().value!);
    this.near.set(key, { gen, value, expires: Date.now() + ttlOf(ttlSec, raw) * 1000 });
    return value;
  }

  private async fill(full: string, gen: string, ttlSec: Ttl, loader: Loader): Promise<string> {
    const fromWriter = ageMs(gen) < FRESH_MS;
    const lockKey = `${full}:lock`;
    const locked = await this.call((c) => c.set(lockKey, '1', 'PX', 2_000, 'NX'));
    if (locked === 'OK') {
      const value = await loader(fromWriter);
      await this.call((c) => c.set(full, value, 'EX', ttlOf(ttlSec, value)));
      await this.call((c) => c.del(lockKey));
      return value;
    }
    if (locked === null) {
      // Someone else is loading this key: wait a little for their result rather than hitting the database too.
      for (let i = 0; i < 4; i++) {
        await new Promise((res) => setTimeout(res, 25));
        const v = await this.call((c) => c.get(full));
        if (typeof v === 'string') return v;
        if (v === undefined) break;
      }
    }
    return loader(fromWriter);
  }

  /** Starts a new generation: every cached entry is invalidated. Called after each write that changes cached content. */
  async bump(): Promise<void> {
    const gen = newGeneration();
    const r = await this.call((c) => c.set(this.genKey, gen));
    // If Redis could not be told, remember it: no cached entry is trusted until the bump succeeds.
    this.pendingBump = r === undefined;
  }

  /**
   * The value of `key` as of its current version in Redis, from process memory when this process loaded that
   * version (in the current epoch, within ttlMs), else from the loader. The version comes with this turn's
   * generation check (turnCheck: one command for every cached and versioned read of the turn). When
   * Redis cannot say, the loader reads the writer and nothing is kept: another instance may have written.
   * `weigh` says what a value costs of the memory budget (versionedBudget; the oldest values leave first).
   */
  async getVersioned<T>(key: string, ttlMs: number, loader: (fromWriter: boolean) => Promise<T>, weigh: (value: T) => number = () => 1): Promise<{ value: T; hit: boolean }> {
    const epoch = this.epoch;
    if (this.pendingVersions.size > 0) this.resendVersions();
    const full = `${this.prefix}v:${key}`;
    const version = await this.turnCheck(full);
    if (version === undefined) return { value: await loader(true), hit: false };
    const local = this.versioned.get(key);
    if (local !== undefined && local.version === version && local.epoch === epoch && local.expires > Date.now()) {
      return { value: local.value as T, hit: true };
    }
    // One load per key and version in this process; a stale one (a bump meanwhile) is stored under its own version.
    const flight = `${version} ${key}`;
    let p = this.versionLoads.get(flight) as Promise<T> | undefined;
    if (p === undefined) {
      p = loader(ageMs(version) < FRESH_MS).then((value) => {
        this.forget(key);
        const weight = weigh(value);
        if (weight <= this.versionedBudget) {
          for (const old of this.versioned.keys()) {
            if (this.versionedWeight + weight <= this.versionedBudget) break;
            this.forget(old);
          }
          this.versioned.set(key, { version, epoch, value, expires: Date.now() + ttlMs, weight });
          this.versionedWeight += weight;
        }
        return value;
      }).finally(() => this.versionLoads.delete(flight));
      this.versionLoads.set(flight, p);
    }
    return { value: await p, hit: false };
  }

  /**
   * Starts a new version of `key` (after a write of the value it stands for): every process reloads it at its
   * next read. When Redis cannot be told, this process forgets its own copy and sends the bump again with its
   * next versioned read (other instances keep theirs until then, or until their ttl).
   */
  async bumpVersion(key: string): Promise<void> {
    this.forget(key);
    const r = await this.call((c) => c.set(`${this.prefix}v:${key}`, newGeneration(), 'EX', VERSION_TTL_S));
    if (r === undefined) this.pendingVersions.add(key);
    else this.pendingVersions.delete(key);
  }

  private forget(key: string): void {
    const e = this.versioned.get(key);
    if (e === undefined) return;
    this.versioned.delete(key);
    this.versionedWeight -= e.weight;
  }

  private resendVersions(): void {
    for (const key of [...this.pendingVersions]) {
      this.pendingVersions.delete(key);
      void this.bumpVersion(key);
    }
  }

  /** Sets a short-lived marker (outside the entries); false when Redis could not be told. */
  async mark(key: string, ttlMs: number): Promise<boolean> {
    return (await this.call((c) => c.set(`${this.prefix}${key}`, '1', 'PX', ttlMs))) === 'OK';
  }

  /**
   * Counts one hit of `key` in its current window of windowMs (shared by every instance): the hits so far
   * and the time left; undefined when Redis cannot say (the caller then counts on its own).
   */
  async count(key: string, windowMs: number): Promise<{ count: number; ttlMs: number } | undefined> {
    const r = await this.call((c) => c.countInWindow(`${this.prefix}n:${key}`, windowMs));
    return r === undefined ? undefined : { count: Number(r[0]), ttlMs: Number(r[1]) };
  }

  /** Whether a marker is set; undefined when Redis cannot say (disabled, unreachable, breaker open). */
  async marked(key: string): Promise<boolean | undefined> {
    const r = await this.call((c) => c.exists(`${this.prefix}${key}`));
    return r === undefined ? undefined : r > 0;
  }

  /** Raw access for tests and health: PING within the time budget. */
  async ping(): Promise<boolean> {
    if (!this.client) return false;
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.client) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
