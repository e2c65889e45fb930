// Open-model load: requests are sent at a constant arrival rate whatever the server does (no closed loop,
// so a stalled server cannot slow the clients down and hide its own latency: no coordinated omission).
// Bounded in time and in count, loopback only, and it stops by itself.
import { Agent, request } from 'undici';

export type RequestKind = 'read' | 'write' | 'page';

/** One request the workload wants sent. */
export interface PlannedRequest {
  kind: RequestKind;
  /** Short label for the report, e.g. "GET /api/articles". */
  label: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A request that is safe to retry (every GET); failures of these break the "0 failed idempotent" criteria. */
  idempotent: boolean;
  /** The ledger id a write carries. */
  writeId?: string;
}

export type Outcome = 'ok' | 'http-error' | 'timeout' | 'network-error' | 'client-saturated';

export interface Sample {
  seq: number;
  kind: RequestKind;
  label: string;
  idempotent: boolean;
  writeId?: string;
  /** ms since the epoch: when the request was due (open model), sent and finished. */
  dueAt: number;
  sentAt: number;
  endedAt: number;
  /** endedAt - dueAt: latency as a client arriving at dueAt sees it. */
  latencyMs: number;
  status: number | null;
  outcome: Outcome;
  /** Error kind for the report: "http 503", "ECONNREFUSED", "timeout"… null when ok. */
  errorKind: string | null;
  /** The request reached the server (or may have): false only when the connection was refused. */
  maybeSent: boolean;
  /**
   * An HTTP error's request id (the edge's X-Request-Id, also in the API's and HAProxy's logs) and the start
   * of its body: who answered (the API's RealWorld error, HAProxy's or Varnish's page) and why.
   */
  detail?: string;
}

export interface LoadOptions {
  /** http://127.0.0.1:PORT — anything other than loopback is refused. */
  baseUrl: string;
  ratePerSecond: number;
  durationMs: number;
  /** Hard cap on requests, whatever the duration. */
  maxRequests: number;
  /** Per-request budget; past it the request counts as a timeout (indeterminate for a write). */
  timeoutMs?: number;
  /** Requests in flight before new arrivals are dropped and counted as client-saturated. default: 256 */
  maxInFlight?: number;
  next: (seq: number) => PlannedRequest;
  onSample?: (sample: Sample, req: PlannedRequest) => void;
  /** Stops the load early. */
  signal?: AbortSignal;
  /**
   * Where each request goes now, when that changes during the run (a client following DNS: see dns.ts);
   * default: baseUrl. Every answer must be loopback too.
   */
  baseUrlFor?: () => string;
}

export interface LoadResult {
  startedAt: number;
  endedAt: number;
  samples: Sample[];
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** 127.0.0.0/8 is loopback (each local region binds its own address there). */
const isLoopback = (host: string) => loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Throws unless the URL points at the loopback interface: drills never load anything else. */
export function assertLoopback(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`load target ${baseUrl} is not a URL: use http://127.0.0.1:PORT`);
  }
  if (url.protocol !== 'http:' || !isLoopback(url.hostname)) {
    throw new Error(`load target ${baseUrl} is not on loopback: drills only load http://127.0.0.1`);
  }
  return url;
}

export function checkLoadOptions(o: LoadOptions): void {
  assertLoopback(o.baseUrl);
  if (!(o.ratePerSecond > 0 && o.ratePerSecond <= 5000)) throw new Error(`ratePerSecond (${o.ratePerSecond}) must be in (0, 5000]`);
  if (!(o.durationMs > 0 && o.durationMs <= 30 * 60_000)) throw new Error(`durationMs (${o.durationMs}) must be in (0, 30 min]`);
  if (!(Number.isInteger(o.maxRequests) && o.maxRequests > 0 && o.maxRequests <= 1_000_000)) {
    throw new Error(`maxRequests (${o.maxRequests}) must be an integer in [1, 1000000]`);
  }
}

/** How a transport error is reported, and whether the request may have reached the server. */
export function classifyError(e: unknown): { kind: string; timeout: boolean; maybeSent: boolean } {
  const err = e as { code?: unknown; name?: string; cause?: { code?: unknown } };
  // AbortSignal.timeout() rejects with a DOMException whose numeric code means nothing here: use its name.
  const code = err?.name === 'TimeoutError' || err?.name === 'AbortError' ? err.name
    : typeof err?.code === 'string' ? err.code
    : typeof err?.cause?.code === 'string' ? err.cause.code
    : err?.name ?? 'error';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TimeoutError' || code === 'AbortError') {
    return { kind: 'timeout', timeout: true, maybeSent: true };
  }
  // Refused: the connection never opened, so nothing was sent.
  if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: code, timeout: false, maybeSent: false };
  return { kind: code, timeout: false, maybeSent: true };
}

/** Sends requests at ratePerSecond until durationMs or maxRequests, then waits for the last answers. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  checkLoadOptions(o);
  const base = assertLoopback(o.baseUrl);
  const timeoutMs = o.timeoutMs ?? 5000;
  const maxInFlight = o.maxInFlight ?? 256;
  const dispatcher = new Agent({ connections: maxInFlight, keepAliveTimeout: 4000, connect: { timeout: Math.min(timeoutMs, 2000) } });
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();
  const interval = 1000 / o.ratePerSecond;
  const endAt = startedAt + o.durationMs;
  let seq = 0;

  const fire = (dueAt: number) => {
    const s = seq++;
    const req = o.next(s);
    const base0 = { seq: s, kind: req.kind, label: req.label, idempotent: req.idempotent, writeId: req.writeId, dueAt };
    const record = (sample: Sample) => {
      samples.push(sample);
      o.onSample?.(sample, req);
    };
    if (inFlight.size >= maxInFlight) {
      const now = Date.now();
      record({ ...base0, sentAt: now, endedAt: now, latencyMs: now - dueAt, status: null, outcome: 'client-saturated', errorKind: 'client-saturated', maybeSent: false });
      return;
    }
    const sentAt = Date.now();
    const p = (async () => {
      let sample: Sample;
      try {
        const res = await request(new URL(req.path, o.baseUrlFor ? assertLoopback(o.baseUrlFor()) : base), {
          method: req.method,
          headers: { 'content-type': 'application/json', ...(req.headers ?? {}) },
          body: req.body,
          dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const ok = res.statusCode < 400;
        const body = ok ? (await res.body.dump({ limit: 1 << 20 }).catch(() => undefined), '') : await res.body.text().catch(() => '');
        const endedAt = Date.now();
        sample = { ...base0, sentAt, endedAt, latencyMs: endedAt - dueAt, status: res.statusCode, outcome: ok ? 'ok' : 'http-error', errorKind: ok ? null : `http ${res.statusCode}`, maybeSent: true };
        if (!ok) sample.detail = failureDetail(res.headers['x-request-id'], body);
      } catch (e) {
        const endedAt = Date.now();
        const c = classifyError(e);
        sample = { ...base0, sentAt, endedAt, latencyMs: endedAt - dueAt, status: null, outcome: c.timeout ? 'timeout' : 'network-error', errorKind: c.kind, maybeSent: c.maybeSent };
      }
      record(sample);
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  try {
    while (seq < o.maxRequests && !o.signal?.aborted) {
      const dueAt = startedAt + seq * interval;
      if (dueAt >= endAt) break;
      const wait = dueAt - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
      else fire(dueAt);
    }
    await Promise.allSettled([...inFlight]);
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
  samples.sort((a, b) => a.seq - b.seq);
  return { startedAt, endedAt: Date.now(), samples };
}

/** "request <id>: <the body's first 160 characters, on one line>" for a failed answer. */
export function failureDetail(requestId: string | string[] | undefined, body: string): string {
  const id = Array.isArray(requestId) ? requestId[0] : requestId;
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 160);
  return `${id ? `request ${id}: ` : ''}${text || '(no body)'}`;
}
