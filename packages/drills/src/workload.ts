// The Conduit workload a drill sends through the edge: mixed reads (articles, tags, comments, the site)
// and writes (comments whose body is the ledger's write id), plus the final read of the set checker.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { definitionSchema } from '@conduit/definition';
import { assertLoopback, type PlannedRequest, type Sample } from './load.js';
import { WriteLedger } from './ledger.js';

async function call(baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown, token?: string, timeoutMs = 5000, from?: string) {
  const res = await request(new URL(path, baseUrl), {
    method,
    ...(from ? { dispatcher: agentFrom(from) } : {}),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Token ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, json, text, headers: res.headers };
}

export interface DrillUser {
  username: string;
  token: string;
}

export interface ConduitTarget {
  /** The edge: http://127.0.0.1:PORT/ (Varnish, like CloudFront). */
  baseUrl: string;
  /** The first user of the pool (`users[0]`): the final read signs in as it. */
  token: string;
  username: string;
  /**
   * The client population: writes and signed-in reads rotate over these users, so none passes the API's
   * per-user write limit (`api.rateLimits.writesPerUserPerMinute`). Grown in place by `addDrillUsers`.
   */
  users: DrillUser[];
  /** Articles the writes are spread over (the API lists at most 500 comments per article). */
  slugs: string[];
  /** Unique per run; every write id starts with it. */
  runId: string;
}

/** The definition's `api.rateLimits` the pool is sized and paced by. */
export interface DrillRateLimits {
  writesPerUserPerMinute: number;
  authPerIpPerMinute: number;
}

/** The schema's defaults, for a caller that does not pass its definition's limits. */
export const defaultDrillRateLimits = (): DrillRateLimits => definitionSchema.parse({ name: 'defaults' }).api.rateLimits;

/**
 * A user writes at most this share of the per-user limit in any minute: room for the articles it authors
 * and for write rates planned from a measurement (the scale-out step, the capacity steps).
 */
export const WRITE_HEADROOM = 0.8;

/** How many users keep `writesPerMinute` (the most the run sends in any minute) under the per-user limit. */
export function drillUsersFor(writesPerMinute: number, writesPerUserPerMinute: number): number {
  if (!(writesPerUserPerMinute >= 1)) throw new Error(`writesPerUserPerMinute (${writesPerUserPerMinute}) must be >= 1`);
  return Math.max(1, Math.ceil(Math.max(0, writesPerMinute) / (WRITE_HEADROOM * writesPerUserPerMinute)));
}

/**
 * Sign-ups and sign-ins come from many loopback addresses, as real users' come from many machines: the API
 * limits them per client address (`api.rateLimits.authPerIpPerMinute`; the edge puts the connecting address in
 * X-Forwarded-For), so a pool of hundreds registers in seconds instead of at 30 a minute. 127.77.0.0/16 is
 * apart from the regions' addresses (127.0.N.1) and needs no setup: Linux routes all of 127.0.0.0/8 to lo.
 * Only the sign-ups and sign-ins bind an address: the other calls are limited per user, not per address.
 */
export const CLIENT_ADDRESSES = 1000;
export const clientAddress = (k: number): string => `127.77.${Math.floor(k / 250)}.${(k % 250) + 1}`;

const agents = new Map<string, Agent>();
/** undici's sockets are unref'd while idle: these agents never keep the process alive. */
const agentFrom = (address: string): Agent => {
  let a = agents.get(address);
  if (!a) agents.set(address, (a = new Agent({ localAddress: address, connections: 1 })));
  return a;
};

/** Per route and client address: when this process sent each call of the last minute. */
const authSent = new Map<string, number[]>();

/**
 * The first client address that may send one more call to `route` within `perMinute` in any minute (its
 * send time recorded); waits only when every address used its window.
 */
async function paceAuth(route: string, perMinute: number, log: (line: string) => void): Promise<string> {
  for (;;) {
    const now = Date.now();
    let soonest = Infinity;
    for (let k = 0; k < CLIENT_ADDRESSES; k++) {
      const address = clientAddress(k);
      const key = `${route} ${address}`;
      const sent = authSent.get(key) ?? [];
      authSent.set(key, sent);
      while (sent.length && sent[0]! <= now - 60_000) sent.shift();
      if (sent.length < perMinute) {
        sent.push(now);
        return address;
      }
      soonest = Math.min(soonest, sent[0]! + 60_000 - now + 50);
    }
    log(`drill users: POST ${route} paced by api.rateLimits.authPerIpPerMinute (${perMinute} a minute from each of ${CLIENT_ADDRESSES} addresses): waiting ${(soonest / 1000).toFixed(1)} s`);
    await sleep(soonest);
  }
}

export interface PrepareOptions {
  /**
   * The highest write rate of the run (writes per second): with `expectedWrites`, the most writes in any
   * minute, which sizes the pool. default: expectedWrites (all of the run's writes within one minute).
   */
  peakWritesPerSecond?: number;
  /** default: the schema's defaults (pass the definition's `api.rateLimits`). */
  rateLimits?: DrillRateLimits;
  /** A failing setup call is retried this long (waits for the sign-up limit are not failures). default: 30 s */
  deadlineMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `fn` until it gives a value; throws when it kept failing for deadlineMs. */
async function retry<T>(what: string, deadlineMs: number, fn: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`drill setup: ${what} kept failing ${last ? `(${last})` : ''}: is the region up and healthy?`);
    await sleep(500);
  }
}

const password = (runId: string) => `pw-${runId}-secret`;
const userName = (runId: string, i: number) => (i === 0 ? `drill_${runId}` : `drill_${runId}_${i}`);
const email = (username: string) => `${username}@drills.invalid`;

/**
 * Signs one user up or in. Every attempt is paced by the per-address limit (a refused attempt counts too);
 * a 429 (another client of this machine used the address's window) waits out its Retry-After. Neither wait
 * is a failure: the deadline runs from the first failed attempt.
 */
async function authenticate(baseUrl: string, route: '/api/users' | '/api/users/login', body: unknown, o: PrepareOptions): Promise<string> {
  const limits = o.rateLimits ?? defaultDrillRateLimits();
  const log = o.log ?? (() => undefined);
  let failingSince: number | null = null;
  let last = '';
  for (;;) {
    const from = await paceAuth(route, limits.authPerIpPerMinute, log);
    const r = await call(baseUrl, 'POST', route, body, undefined, 5000, from).catch((e: Error) => ((last = e.message), null));
    if (r?.status === 200 || r?.status === 201) return (r.json as { user: { token: string } }).user.token;
    if (r?.status === 429) {
      const wait = Math.min(60, Math.max(1, Number(r.headers['retry-after'] ?? 1))) * 1000;
      log(`drill users: POST ${route} answered 429 (this address's window was used by another client): retrying in ${wait / 1000} s`);
      await sleep(wait);
      continue;
    }
    if (r) last = `${r.status} ${r.text.slice(0, 120)}`;
    failingSince ??= Date.now();
    if (Date.now() - failingSince > (o.deadlineMs ?? 30_000)) throw new Error(`drill setup: POST ${route} kept failing (${last}): is the region up and healthy?`);
    await sleep(500);
  }
}

/**
 * Registers users until the pool has `count` (paced by the per-address sign-up limit). The pool grows in
 * place: a mix built on `t` rotates over the new users from its next request.
 */
export async function addDrillUsers(t: ConduitTarget, count: number, o: PrepareOptions = {}): Promise<void> {
  const [from, started] = [t.users.length, Date.now()];
  for (let i = from; i < count; i++) {
    const username = userName(t.runId, i);
    const token = await authenticate(t.baseUrl, '/api/users', { user: { username, email: email(username), password: password(t.runId) } }, o);
    t.users.push({ username, token });
  }
  if (from > 0 && count > from) o.log?.(`drill users: ${count - from} more registered in ${((Date.now() - started) / 1000).toFixed(1)} s (${count} in all)`);
}

/**
 * Signs every user of the pool in again (a region rebuilt with a new JWT secret), paced by the per-address
 * sign-in limit. The first user signed in already may be passed as `first`.
 */
export async function signInDrillUsers(t: ConduitTarget, o: PrepareOptions & { first?: string } = {}): Promise<ConduitTarget> {
  const users: DrillUser[] = [];
  for (const [i, u] of t.users.entries()) {
    const token = i === 0 && o.first ? o.first : await authenticate(t.baseUrl, '/api/users/login', { user: { email: email(u.username), password: password(t.runId) } }, o);
    users.push({ username: u.username, token });
  }
  return { ...t, users, token: users[0]!.token };
}

/**
 * Registers the drill's users and creates the articles the writes go to. Retries while the region settles.
 * The pool is sized so that no user passes `WRITE_HEADROOM` of the per-user write limit in any minute.
 */
export async function prepareConduit(baseUrl: string, expectedWrites: number, o: PrepareOptions = {}): Promise<ConduitTarget> {
  assertLoopback(baseUrl);
  const limits = o.rateLimits ?? defaultDrillRateLimits();
  const runId = `d${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const articles = Math.max(1, Math.ceil(expectedWrites / 400));
  const perMinute = Math.min(expectedWrites, o.peakWritesPerSecond === undefined ? Infinity : o.peakWritesPerSecond * 60) + articles;
  const count = drillUsersFor(perMinute, limits.writesPerUserPerMinute);
  const t: ConduitTarget = { baseUrl, token: '', username: userName(runId, 0), users: [], slugs: [], runId };
  const started = Date.now();
  await addDrillUsers(t, count, { ...o, rateLimits: limits });
  t.token = t.users[0]!.token;
  o.log?.(`drill users: ${count} registered in ${((Date.now() - started) / 1000).toFixed(1)} s (${Math.round(perMinute)} writes a minute at most, ${limits.writesPerUserPerMinute} per user allowed)`);
  for (let i = 0; i < articles; i++) {
    const author = t.users[i % t.users.length]!;
    t.slugs.push(
      await retry('creating an article (POST /api/articles)', o.deadlineMs ?? 30_000, async () => {
        const r = await call(baseUrl, 'POST', '/api/articles', { article: { title: `Drill ${runId} ${i}`, description: 'write ledger', body: `Comments on this article are the write ledger of drill run ${runId}.`, tagList: ['drills'] } }, author.token);
        return r.status === 201 || r.status === 200 ? (r.json as { article: { slug: string } }).article.slug : null;
      }),
    );
  }
  return t;
}

/**
 * The request mix, deterministic in the sequence number: 30 % writes (a comment carrying a write id),
 * 50 % API reads (article list, one article, tags, comments), 20 % site page loads.
 */
export function conduitMix(t: ConduitTarget, ledger: WriteLedger): (seq: number) => PlannedRequest {
  return (seq) => {
    const slot = seq % 10;
    const slug = t.slugs[seq % t.slugs.length]!;
    // Round-robin over the pool: each user gets the same share of the writes and of the signed-in reads.
    const round = Math.floor(seq / 10);
    const reader = t.users[round % t.users.length]!.token;
    if (slot < 3) {
      const writer = t.users[(round * 3 + slot) % t.users.length]!.token;
      const id = `${t.runId}-w${seq}`;
      ledger.attempt(id);
      return {
        kind: 'write', label: 'POST comment', method: 'POST', path: `/api/articles/${slug}/comments`, idempotent: false, writeId: id,
        headers: { authorization: `Token ${writer}` }, body: JSON.stringify({ comment: { body: id } }),
      };
    }
    if (slot === 3) return { kind: 'read', label: 'GET articles', method: 'GET', path: '/api/articles?limit=10', idempotent: true };
    if (slot === 4) return { kind: 'read', label: 'GET article', method: 'GET', path: `/api/articles/${slug}`, idempotent: true };
    if (slot === 5) return { kind: 'read', label: 'GET tags', method: 'GET', path: '/api/tags', idempotent: true };
    if (slot === 6) return { kind: 'read', label: 'GET comments', method: 'GET', path: `/api/articles/${slug}/comments`, idempotent: true, headers: { authorization: `Token ${reader}` } };
    if (slot === 7) return { kind: 'read', label: 'GET articles (auth)', method: 'GET', path: '/api/articles?limit=5&offset=0', idempotent: true, headers: { authorization: `Token ${reader}` } };
    return { kind: 'page', label: 'GET /', method: 'GET', path: '/', idempotent: true };
  };
}

/** How a write's answer settles its ledger entry. */
export function settleWrite(ledger: WriteLedger, s: Sample): void {
  if (!s.writeId) return;
  if (s.outcome === 'ok') ledger.settle(s.writeId, 'acknowledged', String(s.status), s.endedAt);
  // Refused before sending, or rejected by the API (4xx): it did not happen.
  else if (!s.maybeSent || (s.status !== null && s.status >= 400 && s.status < 500)) ledger.settle(s.writeId, 'failed', s.errorKind, s.endedAt);
  // Timeouts, lost connections and 5xx: the write may or may not have committed.
  else ledger.settle(s.writeId, 'indeterminate', s.errorKind, s.endedAt);
}

/** The final read: every comment body on the drill's articles (authenticated, so the edge never caches it). */
export async function readAllWrites(t: ConduitTarget): Promise<string[]> {
  const out: string[] = [];
  for (const slug of t.slugs) {
    const r = await call(t.baseUrl, 'GET', `/api/articles/${slug}/comments`, undefined, t.token, 10_000);
    if (r.status !== 200) throw new Error(`final read GET /api/articles/${slug}/comments answered ${r.status}: ${r.text.slice(0, 200)}`);
    for (const c of (r.json as { comments: { body: string }[] }).comments) out.push(c.body);
  }
  return out;
}
