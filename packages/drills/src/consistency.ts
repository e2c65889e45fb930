// Consistency probes through the edge: does a read right after an acknowledged write see it?
//
// `probeConsistency` runs write-then-read pairs of every kind a user makes (update an article, favorite,
// change a bio, create, delete, comment, follow, register) through the edge (Varnish, like CloudFront).
// Before each write it reads what the write will change, so the edge holds the old copy; right after the
// write is acknowledged it reads again, anonymously (what everyone sees through the edge) and as the
// writer (read-your-writes). A pair is stale when any of those reads does not show the write. Background
// readers keep fetching the same URLs meanwhile, so edge fills race with the writes as they do in real use.
// The load balancer round-robins, so a write and the reads after it land on different API instances.
//
// `edgeHitRatio` measures the share of hot anonymous reads (home page list, tags, the articles of page 1
// and their authors) the edge answers from its cache, alone and with writes to that content flowing.
//
// Loopback only, bounded in count and time.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { assertLoopback } from './load.js';
import { WRITE_HEADROOM, defaultDrillRateLimits, type DrillRateLimits } from './workload.js';

export type PairKind = 'update' | 'favorite' | 'bio' | 'create' | 'delete' | 'comment' | 'follow' | 'register';

/** One pair in twenty is a registration (sign-ups are rate limited per client address). */
const ROTATION: PairKind[] = [
  'update', 'favorite', 'bio', 'create', 'comment', 'favorite', 'follow', 'delete', 'update', 'favorite',
  'update', 'favorite', 'bio', 'create', 'comment', 'favorite', 'follow', 'delete', 'update', 'register',
];

export interface ProbeOptions {
  /** The edge: http://127.0.0.1:PORT (loopback only). */
  edge: string;
  /** Write-then-read pairs (default 1000, at most 100000). */
  pairs?: number;
  /** Concurrent anonymous readers of the probed URLs during the run (default 2). */
  background?: number;
  /** API instances' own URLs (http://127.0.0.1:PORT), to report how requests spread over them. */
  instances?: { name: string; url: string }[];
  /**
   * The definition's `api.rateLimits`: the writers are as many as keep each under the per-user write limit
   * (each runs whole rotations of the pair kinds). default: the schema's defaults.
   */
  rateLimits?: DrillRateLimits;
  onProgress?: (done: number, stale: number) => void;
}

export interface KindStats { pairs: number; stale: number }

export interface ProbeReport {
  pairs: number;
  stale: number;
  /**
   * Pairs where a read AS THE WRITER missed the write (read-your-writes broken). The other stale reads are
   * anonymous: the edge (purge on write) or a replica that had not applied the write yet (a read right
   * after another client's write goes to a replica, which may lag by milliseconds).
   */
  staleForWriter: number;
  byKind: Record<string, KindStats>;
  /** Reads after writes, anonymous and as the writer. */
  reads: number;
  /** The first stale reads, described (at most 20). */
  examples: string[];
  /** Unexpected answers (5xx, network), not counted as stale. */
  errors: number;
  /** Requests answered 429 and retried after Retry-After. */
  throttled: number;
  /** Users writing (each runs whole rotations of the pair kinds, within the per-user write limit). */
  writers: number;
  backgroundReads: number;
  /** Requests each API instance served during the run (from its /metrics), when `instances` was given. */
  perInstance: Record<string, { writes: number; reads: number }>;
  durationMs: number;
}

interface Res {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

const dispatcher = () => new Agent({ connections: 16, keepAliveTimeout: 4_000, connect: { timeout: 2_000 } });

function client(edge: string, agent: Agent) {
  const base = assertLoopback(edge);
  let throttled = 0;
  async function call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (opts.token) headers.authorization = `Token ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const r = await request(new URL(path, base), {
        method: method as 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        dispatcher: agent,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await r.body.text();
      if (r.statusCode === 429 && attempt < 20) {
        throttled++;
        const wait = Number(r.headers['retry-after'] ?? 1);
        await new Promise((res) => setTimeout(res, Math.min(Math.max(wait, 1), 60) * 1000));
        continue;
      }
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: r.statusCode, json, headers: r.headers };
    }
  }
  return { call, throttled: () => throttled };
}

class Unexpected extends Error {}

const expectStatus = (r: Res, what: string, ...ok: number[]) => {
  if (!ok.includes(r.status)) throw new Unexpected(`${what} answered ${r.status}: ${JSON.stringify(r.json)?.slice(0, 200)}`);
  return r;
};

/** One probe writer: its token, its articles, whether it follows the followee. */
interface Writer { name: string; token: string; following: boolean; pool: Article[] }

interface Article { slug: string; description: string; favorited: boolean; favoritesCount: number; author: { username: string; bio: string | null } }

/** Sums http_requests_total per method family from one instance's /metrics. */
async function instanceCounts(url: string): Promise<{ writes: number; reads: number }> {
  try {
    const r = await request(new URL('/metrics', url), { headersTimeout: 2_000, bodyTimeout: 2_000 });
    const text = await r.body.text();
    let writes = 0;
    let reads = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('http_requests_total{') || !line.includes('route="/api/')) continue;
      const method = /method="([A-Z]+)"/.exec(line)?.[1];
      const n = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (method === 'GET') reads += n;
      else if (method === 'POST' || method === 'PUT' || method === 'DELETE') writes += n;
    }
    return { writes, reads };
  } catch {
    return { writes: 0, reads: 0 };
  }
}

/** Runs write-then-read pairs through the edge and counts the stale reads. */
export async function probeConsistency(o: ProbeOptions): Promise<ProbeReport> {
  const total = o.pairs ?? 1000;
  if (!(Number.isInteger(total) && total > 0 && total <= 100_000)) throw new Error(`pairs (${total}) must be an integer in [1, 100000]`);
  const agent = dispatcher();
  const { call, throttled } = client(o.edge, agent);
  const started = Date.now();
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const tag = `probe-${run}`;
  const before = new Map<string, { writes: number; reads: number }>();
  for (const i of o.instances ?? []) before.set(i.name, await instanceCounts(i.url));

  const register = async (username: string) => {
    const r = expectStatus(await call('POST', '/api/users', { body: { user: { username, email: `${username}@probe.invalid`, password: `pw-${run}-secret` } } }), 'POST /api/users', 201);
    return r.json.user.token as string;
  };
  // Each writer runs whole rotations (19 writes each, plus its 4 first articles) within the per-user limit.
  const perUser = (o.rateLimits ?? defaultDrillRateLimits()).writesPerUserPerMinute * WRITE_HEADROOM;
  const rotations = Math.ceil(total / ROTATION.length);
  const rotationsPerWriter = Math.max(1, Math.floor((perUser - 4) / (ROTATION.length - 1)));
  const writers: Writer[] = [];
  for (let k = 0; k < Math.ceil(rotations / rotationsPerWriter); k++) {
    const name = k === 0 ? `probe_${run}` : `probe_${run}_w${k}`;
    writers.push({ name, token: await register(name), following: false, pool: [] });
  }
  const followee = `probe_${run}_f`;
  await register(followee);
  let users = 0;
  let created = 0;
  let w = writers[0]!;
  const createArticle = async () => {
    const r = expectStatus(
      await call('POST', '/api/articles', { token: w.token, body: { article: { title: `Probe ${run} ${created++}`, description: 'probe', body: 'Consistency probe.', tagList: [tag] } } }),
      'POST /api/articles', 201,
    );
    return r.json.article as Article;
  };
  for (w of writers) for (let i = 0; i < 4; i++) w.pool.push(await createArticle());
  w = writers[0]!;

  const stats: ProbeReport = {
    pairs: 0, stale: 0, staleForWriter: 0, byKind: {}, reads: 0, examples: [], errors: 0, throttled: 0, writers: writers.length, backgroundReads: 0, perInstance: {}, durationMs: 0,
  };
  const urls = () => [
    ...w.pool.map((a) => `/api/articles/${a.slug}`),
    `/api/articles?author=${w.name}&limit=20`, `/api/articles?favorited=${w.name}&limit=20`, `/api/articles?tag=${tag}&limit=20`,
    `/api/profiles/${w.name}`,
  ];
  let stop = false;
  const background = Array.from({ length: o.background ?? 2 }, async (_, k) => {
    let n = k;
    while (!stop) {
      const list = urls();
      try {
        await call('GET', list[n++ % list.length]!);
        stats.backgroundReads++;
      } catch {
        /* background reads only create races; their failures are not the probe's subject */
      }
    }
  });

  // One check: `ok` says whether the read shows the write; `what` describes it for the report.
  let staleInPair: string[] = [];
  const check = (what: string, ok: boolean, seen: unknown) => {
    stats.reads++;
    if (!ok) staleInPair.push(`${what}: saw ${JSON.stringify(seen)?.slice(0, 160)}`);
  };
  const get = (path: string, asWriter = false) => call('GET', path, asWriter ? { token: w.token } : {});
  const list = async (path: string) => expectStatus(await get(path), `GET ${path}`, 200).json.articles as Article[];
  const pick = (i: number) => w.pool[i % w.pool.length]!;

  const pairs: Record<PairKind, (i: number) => Promise<void>> = {
    async update(i) {
      const a = pick(i);
      const nonce = `d-${run}-${i}`;
      await get(`/api/articles/${a.slug}`);
      await get(`/api/articles?author=${w.name}&limit=20`);
      expectStatus(await call('PUT', `/api/articles/${a.slug}`, { token: w.token, body: { article: { description: nonce } } }), 'PUT article', 200);
      a.description = nonce;
      const anon = await get(`/api/articles/${a.slug}`);
      check('anonymous article after update', anon.json?.article?.description === nonce, anon.json?.article?.description);
      const l = await list(`/api/articles?author=${w.name}&limit=20`);
      const item = l.find((x) => x.slug === a.slug);
      check('author list after update', item?.description === nonce, item?.description);
      const mine = await get(`/api/articles/${a.slug}`, true);
      check("writer's article after update", mine.json?.article?.description === nonce, mine.json?.article?.description);
    },
    async favorite(i) {
      const a = pick(i);
      await get(`/api/articles/${a.slug}`);
      await get(`/api/articles?favorited=${w.name}&limit=20`);
      const r = expectStatus(await call(a.favorited ? 'DELETE' : 'POST', `/api/articles/${a.slug}/favorite`, { token: w.token }), 'favorite', 200);
      a.favorited = r.json.article.favorited;
      a.favoritesCount = r.json.article.favoritesCount;
      const anon = await get(`/api/articles/${a.slug}`);
      check('anonymous favoritesCount', anon.json?.article?.favoritesCount === a.favoritesCount, anon.json?.article?.favoritesCount);
      const favs = await list(`/api/articles?favorited=${w.name}&limit=20`);
      check('favorited list', favs.some((x) => x.slug === a.slug) === a.favorited, favs.map((x) => x.slug));
      const mine = await get(`/api/articles/${a.slug}`, true);
      check("writer's favorited flag", mine.json?.article?.favorited === a.favorited, mine.json?.article?.favorited);
    },
    async bio(i) {
      const a = pick(i);
      const bio = `bio-${run}-${i}`;
      await get(`/api/profiles/${w.name}`);
      await get(`/api/articles/${a.slug}`);
      expectStatus(await call('PUT', '/api/user', { token: w.token, body: { user: { bio } } }), 'PUT /api/user', 200);
      const p = await get(`/api/profiles/${w.name}`);
      check('anonymous profile bio', p.json?.profile?.bio === bio, p.json?.profile?.bio);
      const art = await get(`/api/articles/${a.slug}`);
      check('author bio in the article', art.json?.article?.author?.bio === bio, art.json?.article?.author?.bio);
      const me = await get('/api/user', true);
      check("writer's own bio", me.json?.user?.bio === bio, me.json?.user?.bio);
    },
    async create() {
      await get(`/api/articles?tag=${encodeURIComponent(tag)}&limit=20`);
      const a = await createArticle();
      w.pool.push(a);
      const anon = await get(`/api/articles/${a.slug}`);
      check('new article', anon.status === 200, anon.status);
      const l = await list(`/api/articles?tag=${encodeURIComponent(tag)}&limit=20`);
      check('tag list has the new article', l.some((x) => x.slug === a.slug), l.map((x) => x.slug));
    },
    async delete() {
      if (w.pool.length <= 3) return pairs.create(0);
      const a = w.pool.shift()!;
      await get(`/api/articles/${a.slug}`);
      await get(`/api/articles?tag=${encodeURIComponent(tag)}&limit=20`);
      expectStatus(await call('DELETE', `/api/articles/${a.slug}`, { token: w.token }), 'DELETE article', 204, 200);
      const anon = await get(`/api/articles/${a.slug}`);
      check('deleted article', anon.status === 404, anon.status);
      const l = await list(`/api/articles?tag=${encodeURIComponent(tag)}&limit=20`);
      check('tag list without the deleted article', !l.some((x) => x.slug === a.slug), l.map((x) => x.slug));
    },
    async comment(i) {
      const a = pick(i);
      const nonce = `c-${run}-${i}`;
      await get(`/api/articles/${a.slug}/comments`);
      expectStatus(await call('POST', `/api/articles/${a.slug}/comments`, { token: w.token, body: { comment: { body: nonce } } }), 'POST comment', 201, 200);
      const anon = await get(`/api/articles/${a.slug}/comments`);
      check('anonymous comments', (anon.json?.comments ?? []).some((c: { body: string }) => c.body === nonce), anon.status);
      const mine = await get(`/api/articles/${a.slug}/comments`, true);
      check("writer's comments", (mine.json?.comments ?? []).some((c: { body: string }) => c.body === nonce), mine.status);
    },
    async follow() {
      await get(`/api/profiles/${followee}`, true);
      const r = expectStatus(await call(w.following ? 'DELETE' : 'POST', `/api/profiles/${followee}/follow`, { token: w.token }), 'follow', 200);
      w.following = r.json.profile.following;
      const mine = await get(`/api/profiles/${followee}`, true);
      check("writer's following flag", mine.json?.profile?.following === w.following, mine.json?.profile?.following);
    },
    async register() {
      const name = `probe_${run}_u${users++}`;
      const pre = await get(`/api/profiles/${name}`);
      expectStatus(pre, 'profile before registration', 404);
      await register(name);
      const p = await get(`/api/profiles/${name}`);
      check('new user profile', p.status === 200 && p.json?.profile?.username === name, p.status);
    },
  };

  try {
    for (let i = 0; i < total; i++) {
      const kind = ROTATION[i % ROTATION.length]!;
      w = writers[Math.floor(i / ROTATION.length / rotationsPerWriter) % writers.length]!;
      staleInPair = [];
      const k = (stats.byKind[kind] ??= { pairs: 0, stale: 0 });
      try {
        await pairs[kind](i);
      } catch (e) {
        if (!(e instanceof Unexpected) && !(e instanceof Error)) throw e;
        stats.errors++;
        if (stats.examples.length < 20) stats.examples.push(`pair ${i} (${kind}): error: ${(e as Error).message}`);
        continue;
      }
      k.pairs++;
      stats.pairs++;
      if (staleInPair.length > 0) {
        k.stale++;
        stats.stale++;
        if (staleInPair.some((line) => line.startsWith("writer's"))) stats.staleForWriter++;
        if (stats.examples.length < 20) stats.examples.push(`pair ${i} (${kind}): ${staleInPair.join('; ')}`);
      }
      o.onProgress?.(i + 1, stats.stale);
    }
  } finally {
    stop = true;
    await Promise.all(background);
  }
  for (const i of o.instances ?? []) {
    const a = await instanceCounts(i.url);
    const b = before.get(i.name)!;
    stats.perInstance[i.name] = { writes: a.writes - b.writes, reads: a.reads - b.reads };
  }
  stats.throttled = throttled();
  stats.durationMs = Date.now() - started;
  await agent.close();
  return stats;
}

export interface HitRatioOptions {
  edge: string;
  /** Measuring time per phase (default 10 s, at most 120 s). */
  durationMs?: number;
  /** Hot reads per second, spread over 8 paced readers (default 200: a busy site, not a saturation test). */
  ratePerSecond?: number;
  /** Writes per second to the hot content during the second phase (favorite toggles; default 2; 0 skips it). */
  writesPerSecond?: number;
}

export interface HitPhase { requests: number; hits: number; ratio: number; rps: number; writes: number }
export interface HitRatioReport { urls: string[]; readsOnly: HitPhase; withWrites: HitPhase | null }

/** Share of hot anonymous reads answered by the edge's cache (X-Cache: HIT), without and with writes. */
export async function edgeHitRatio(o: HitRatioOptions): Promise<HitRatioReport> {
  const durationMs = o.durationMs ?? 10_000;
  if (!(durationMs > 0 && durationMs <= 120_000)) throw new Error(`durationMs (${durationMs}) must be in (0, 120000]`);
  const agent = dispatcher();
  const { call } = client(o.edge, agent);
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const writer = `hits_${run}`;
  const reg = expectStatus(await call('POST', '/api/users', { body: { user: { username: writer, email: `${writer}@probe.invalid`, password: `pw-${run}-secret` } } }), 'POST /api/users', 201);
  const token = reg.json.user.token as string;
  // The home page the SPA asks for, the tags, page 1's articles and their authors.
  const home = '/api/articles?limit=10&offset=0';
  const page = expectStatus(await call('GET', home), `GET ${home}`, 200).json.articles as Article[];
  const top = page.slice(0, 5);
  const urls = [home, '/api/tags', ...top.map((a) => `/api/articles/${a.slug}`), ...[...new Set(top.map((a) => a.author.username))].map((u) => `/api/profiles/${u}`)];

  const phase = async (writesPerSecond: number): Promise<HitPhase> => {
    let requests = 0;
    let hits = 0;
    let writes = 0;
    const end = Date.now() + durationMs;
    const clients = 8;
    const every = (1000 * clients) / (o.ratePerSecond ?? 200);
    const readers = Array.from({ length: clients }, async (_, k) => {
      let n = k;
      for (let due = Date.now() + (k * every) / clients; due < end; due += every) {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        const r = await call('GET', urls[n++ % urls.length]!);
        requests++;
        if (r.headers['x-cache'] === 'HIT') hits++;
      }
    });
    const writer = (async () => {
      if (writesPerSecond === 0 || top.length === 0) return;
      const favorited = new Set<string>();
      for (let i = 0; Date.now() < end; i++) {
        const slug = top[i % top.length]!.slug;
        const on = favorited.has(slug);
        await call(on ? 'DELETE' : 'POST', `/api/articles/${slug}/favorite`, { token });
        if (on) favorited.delete(slug);
        else favorited.add(slug);
        writes++;
        await new Promise((res) => setTimeout(res, 1000 / writesPerSecond));
      }
      for (const slug of favorited) await call('DELETE', `/api/articles/${slug}/favorite`, { token });
    })();
    await Promise.all([...readers, writer]);
    return { requests, hits, ratio: requests ? hits / requests : 0, rps: requests / (durationMs / 1000), writes };
  };
  try {
    const readsOnly = await phase(0);
    const withWrites = (o.writesPerSecond ?? 2) > 0 ? await phase(o.writesPerSecond ?? 2) : null;
    return { urls, readsOnly, withWrites };
  } finally {
    await agent.close();
  }
}

/** The probe's report as lines for a terminal. */
export function formatProbe(r: ProbeReport): string[] {
  const lines = [
    `consistency probe: ${r.pairs} write-then-read pairs through the edge, ${r.reads} reads checked: ${r.stale} stale (${r.staleForWriter} as the writer)` +
      ` (${r.writers} writers, ${(r.durationMs / 1000).toFixed(1)} s, ${r.backgroundReads} background reads, ${r.errors} errors, ${r.throttled} throttled and retried)`,
    ...Object.entries(r.byKind).map(([k, s]) => `  ${k.padEnd(9)} ${String(s.pairs).padStart(5)} pairs  ${String(s.stale).padStart(5)} stale`),
  ];
  const inst = Object.entries(r.perInstance);
  if (inst.length) lines.push(`  API instances (writes/reads served): ${inst.map(([n, c]) => `${n} ${c.writes}/${c.reads}`).join(', ')}`);
  for (const e of r.examples) lines.push(`  ${e}`);
  return lines;
}

export function formatHitRatio(r: HitRatioReport): string[] {
  const f = (p: HitPhase) => `${(p.ratio * 100).toFixed(2)} % hits (${p.hits}/${p.requests}, ${p.rps.toFixed(0)} rps${p.writes ? `, ${p.writes} writes` : ''})`;
  return [
    `edge hit ratio on ${r.urls.length} hot anonymous URLs: reads only ${f(r.readsOnly)}`,
    ...(r.withWrites ? [`  with writes to that content: ${f(r.withWrites)}`] : []),
  ];
}
