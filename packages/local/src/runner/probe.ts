// Readiness and health probes: TCP connect and HTTP GET on loopback, each with a short timeout.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Probe } from '../types.js';

export function tcpProbe(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface HttpResult { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export function httpGet(url: string, opts: { timeoutMs?: number; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, timeout: opts.timeoutMs ?? 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 2_000} ms: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** True when the probe passes: TCP accepts, or HTTP answers 2xx. */
export async function probe(p: Probe, port: number, timeoutMs = 1_000): Promise<boolean> {
  if (p.kind === 'tcp') return tcpProbe(port, timeoutMs);
  try {
    const r = await httpGet(`http://127.0.0.1:${port}${p.path}`, { timeoutMs });
    return r.status >= 200 && r.status < 300;
  } catch {
    return false;
  }
}

/** Polls `check` every intervalMs until it returns true; throws `what` after timeoutMs. No fixed sleeps. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${(timeoutMs / 1000).toFixed(0)} s`);
    await sleep(intervalMs);
  }
}

/**
 * Ports among `claims` that a listening socket already holds. Reads /proc/net/tcp{,6} (LISTEN state
 * only): ports 32768-60999 are also the kernel's ephemeral range, so a short-lived outgoing
 * connection may own one for a moment, which is not "taken by another program". Without /proc,
 * falls back to trying to bind each port.
 */
export async function takenPorts<T extends { port: number }>(claims: T[]): Promise<T[]> {
  const listening = listeningPorts();
  if (listening) return claims.filter((c) => listening.has(c.port)).sort((a, b) => a.port - b.port);
  const taken: T[] = [];
  await Promise.all(claims.map(async (c) => {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host: '127.0.0.1', port: c.port }, () => srv.close(() => resolve(true)));
    });
    if (!free) taken.push(c);
  }));
  return taken.sort((a, b) => a.port - b.port);
}

/** Local ports in LISTEN state on loopback or any address, or null when /proc is unavailable. */
export function listeningPorts(): Set<number> | null {
  const ports = new Set<number>();
  let read = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      read = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A') continue; // TCP_LISTEN
      const [addr, port] = (f[1] ?? '').split(':');
      // 127.0.0.1, 0.0.0.0, ::, ::1 (and v4-mapped loopback/any) can collide with our 127.0.0.1 binds.
      if (/^(0100007F|00000000|0+|0+1000000|0000000000000000FFFF00000100007F|0000000000000000FFFF000000000000)$/i.test(addr ?? '')) {
        ports.add(parseInt(port ?? '0', 16));
      }
    }
  }
  return read ? ports : null;
}
