// Readiness and health probes: TCP connect, HTTP GET and a DNS question on loopback, each with a short timeout.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Probe } from '../types.js';

export function tcpProbe(port: number, timeoutMs = 500, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * What a MariaDB endpoint says to a bare TCP connection, without logging in: the server speaks first (its
 * handshake, or an error packet such as "too many connections"), so any packet proves a server answers.
 * HAProxy in TCP mode accepts the connection either way: with no server left to route to, or when the server
 * refuses, it closes the connection without a byte; with a stalled server, nothing comes before the deadline.
 */
export function mysqlGreeting(port: number, timeoutMs = 600, host = '127.0.0.1'): Promise<{ answered: boolean; detail: string }> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    let got = Buffer.alloc(0);
    const done = (answered: boolean, detail: string) => { s.destroy(); resolve({ answered, detail }); };
    s.setTimeout(timeoutMs, () => done(false, `no answer in ${timeoutMs} ms`));
    s.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      // A packet: 3-byte length, sequence id, then 0x0a (protocol 10 handshake) or 0xff (an error packet).
      if (got.length < 5) return;
      if (got[4] === 0x0a) done(true, 'handshake');
      else if (got[4] === 0xff) done(true, `error packet: ${got.subarray(got.length > 13 && got[7] === 0x23 ? 13 : 7).toString('utf8')}`);
      else done(false, 'not a MariaDB server');
    });
    s.once('end', () => done(false, 'connection closed without an answer'));
    s.once('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
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

/** DNS error codes that are answers from the server (it runs), not a missing or silent server. */
const DNS_ANSWERS = new Set(['ESERVFAIL', 'ENOTFOUND', 'ENODATA', 'EREFUSED', 'ENOTIMP', 'EFORMERR']);

async function dnsProbe(name: string, port: number, timeoutMs: number, host: string): Promise<boolean> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([`${host}:${port}`]);
  return resolver.resolve4(name).then(() => true, (e: NodeJS.ErrnoException) => DNS_ANSWERS.has(e.code ?? ''));
}

/**
 * True when the probe passes: TCP accepts, HTTP answers 2xx, a DNS server answers (an `alive` process: the caller
 * checks its pid).
 */
export async function probe(p: Probe, port: number, timeoutMs = 1_000, host = '127.0.0.1'): Promise<boolean> {
  if (p.kind === 'alive') return true;
  if (p.kind === 'tcp') return tcpProbe(port, timeoutMs, host);
  if (p.kind === 'dns') return dnsProbe(p.name, port, timeoutMs, host);
  try {
    const r = await httpGet(`http://${host}:${port}${p.path}`, { timeoutMs });
    return r.status >= 200 && r.status < 300;
  } catch {
    return false;
  }
}

/**
 * The one wait: polls `check` every intervalMs until it returns a truthy value (returned), and fails
 * naming `what` after timeoutMs. A check that throws fails the wait at once (a fatal condition);
 * checks that may fail transiently return a falsy value instead. No fixed sleeps.
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${(timeoutMs / 1000).toFixed(0)} s`);
    await sleep(intervalMs);
  }
}

/**
 * Ports among `claims` that a listening socket already holds (another program). Reads
 * /proc/net/tcp{,6}; without /proc, falls back to trying to bind each port.
 */
export async function takenPorts<T extends { port: number }>(claims: T[], host = '127.0.0.1'): Promise<T[]> {
  const sockets = loopbackSockets(host);
  if (sockets) return claims.filter((c) => sockets.listening.has(c.port)).sort((a, b) => a.port - b.port);
  return unbindable(claims, host);
}

async function unbindable<T extends { port: number }>(claims: T[], host = '127.0.0.1'): Promise<T[]> {
  const taken: T[] = [];
  await Promise.all(claims.map(async (c) => {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host, port: c.port }, () => srv.close(() => resolve(true)));
    });
    if (!free) taken.push(c);
  }));
  return taken.sort((a, b) => a.port - b.port);
}

/**
 * Ports among `claims` that cannot be bound right now although nothing listens there: the local end
 * of a client connection (established or TIME_WAIT). Ports 32768-60999 are also the kernel's
 * ephemeral range, and such a port stays blocked until the connection closes and leaves TIME_WAIT
 * (60 s). Server-side TIME_WAIT does not block: like the components, the test binds with SO_REUSEADDR.
 */
export const portsBlockedByConnections = <T extends { port: number }>(claims: T[], host = '127.0.0.1'): Promise<T[]> => unbindable(claims, host);

/** /proc/net/tcp's hex of an IPv4 address (little-endian): 127.0.0.1 → 0100007F. */
const procHex = (ip: string) => ip.split('.').reverse().map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).join('');

/** Matches the address itself or any-address sockets (which also hold the port on it), IPv4 and IPv6. */
const addressOrAny = (host: string) => {
  const h = procHex(host);
  const v6 = host === '127.0.0.1' ? '|0{24}01000000' : '';
  return new RegExp(`^(${h}|00000000|0{32}${v6}|0{16}FFFF0000${h}|0{16}FFFF000000000000)$`, 'i');
};

/** Local ports of sockets on `host` (default 127.0.0.1) or any address, split into LISTEN and the rest; null without /proc. */
export function loopbackSockets(host = '127.0.0.1'): { listening: Set<number>; connected: Set<number> } | null {
  const loopbackOrAny = addressOrAny(host);
  const listening = new Set<number>();
  const connected = new Set<number>();
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
      const [addr, port] = (f[1] ?? '').split(':');
      if (!loopbackOrAny.test(addr ?? '')) continue;
      const n = parseInt(port ?? '0', 16);
      if (f[3] === '0A') listening.add(n); // TCP_LISTEN
      else if (f[3] !== '07') connected.add(n); // anything but CLOSE
    }
  }
  return read ? { listening, connected } : null;
}
