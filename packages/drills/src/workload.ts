// The Conduit workload a drill sends through the edge: mixed reads (articles, tags, comments, the site)
// and writes (comments whose body is the ledger's write id), plus the final read of the set checker.
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { assertLoopback, type PlannedRequest, type Sample } from './load.js';
import { WriteLedger } from './ledger.js';

export interface ConduitTarget {
  /** The edge: http://127.0.0.1:PORT/ (Varnish, like CloudFront). */
  baseUrl: string;
  token: string;
  username: string;
  /** Articles the writes are spread over (the API lists at most 500 comments per article). */
  slugs: string[];
  /** Unique per run; every write id starts with it. */
  runId: string;
}

async function call(baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown, token?: string, timeoutMs = 5000) {
  const res = await request(new URL(path, baseUrl), {
    method,
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
  return { status: res.statusCode, json, text };
}

/** Registers a drill user and creates the articles the writes go to. Retries while the region settles. */
export async function prepareConduit(baseUrl: string, expectedWrites: number, deadlineMs = 30_000): Promise<ConduitTarget> {
  assertLoopback(baseUrl);
  const runId = `d${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const username = `drill_${runId}`;
  const deadline = Date.now() + deadlineMs;
  const retry = async <T>(what: string, fn: () => Promise<T | null>): Promise<T> => {
    let last = '';
    for (;;) {
      try {
        const v = await fn();
        if (v !== null) return v;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`drill setup: ${what} kept failing ${last ? `(${last})` : ''}: is the region up and healthy?`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const token = await retry('registering a user (POST /api/users)', async () => {
    const r = await call(baseUrl, 'POST', '/api/users', { user: { username, email: `${username}@drills.invalid`, password: `pw-${runId}-secret` } });
    return r.status === 201 || r.status === 200 ? ((r.json as { user: { token: string } }).user.token) : null;
  });
  const count = Math.max(1, Math.ceil(expectedWrites / 400));
  const slugs: string[] = [];
  for (let i = 0; i < count; i++) {
    slugs.push(
      await retry('creating an article (POST /api/articles)', async () => {
        const r = await call(baseUrl, 'POST', '/api/articles', { article: { title: `Drill ${runId} ${i}`, description: 'write ledger', body: `Comments on this article are the write ledger of drill run ${runId}.`, tagList: ['drills'] } }, token);
        return r.status === 201 || r.status === 200 ? (r.json as { article: { slug: string } }).article.slug : null;
      }),
    );
  }
  return { baseUrl, token, username, slugs, runId };
}

/**
 * The request mix, deterministic in the sequence number: 30 % writes (a comment carrying a write id),
 * 50 % API reads (article list, one article, tags, comments), 20 % site page loads.
 */
export function conduitMix(t: ConduitTarget, ledger: WriteLedger): (seq: number) => PlannedRequest {
  return (seq) => {
    const slot = seq % 10;
    const slug = t.slugs[seq % t.slugs.length]!;
    if (slot < 3) {
      const id = `${t.runId}-w${seq}`;
      ledger.attempt(id);
      return {
        kind: 'write', label: 'POST comment', method: 'POST', path: `/api/articles/${slug}/comments`, idempotent: false, writeId: id,
        headers: { authorization: `Token ${t.token}` }, body: JSON.stringify({ comment: { body: id } }),
      };
    }
    if (slot === 3) return { kind: 'read', label: 'GET articles', method: 'GET', path: '/api/articles?limit=10', idempotent: true };
    if (slot === 4) return { kind: 'read', label: 'GET article', method: 'GET', path: `/api/articles/${slug}`, idempotent: true };
    if (slot === 5) return { kind: 'read', label: 'GET tags', method: 'GET', path: '/api/tags', idempotent: true };
    if (slot === 6) return { kind: 'read', label: 'GET comments', method: 'GET', path: `/api/articles/${slug}/comments`, idempotent: true, headers: { authorization: `Token ${t.token}` } };
    if (slot === 7) return { kind: 'read', label: 'GET articles (auth)', method: 'GET', path: '/api/articles?limit=5&offset=0', idempotent: true, headers: { authorization: `Token ${t.token}` } };
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
