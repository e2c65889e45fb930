// The one Redis protocol (RESP) client: one command, one answer, over a raw socket with a timeout.
// Enough for ROLE and SENTINEL queries; the API uses ioredis.
import { createConnection } from 'node:net';

export type RedisReply = string[] | string | null;

const encode = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * Sends one command; resolves with an array of bulk strings, a simple value, or null; rejects on a Redis error.
 * @param password sent first (AUTH, the `default` user) on the same connection: the region's Redis nodes
 *   and Sentinels require one (secrets.json: redisAdminPassword, sentinelPassword).
 */
export function redisCommand(port: number, args: string[], timeoutMs = 1_000, host = '127.0.0.1', password?: string): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    let buf = '';
    let authPending = password !== undefined;
    const finish = (fn: () => void) => { clearTimeout(timer); s.destroy(); fn(); };
    const timer = setTimeout(() => finish(() => reject(new Error(`redis ${host}:${port}: no answer in ${timeoutMs} ms`))), timeoutMs);
    s.on('connect', () => s.write((password !== undefined ? encode(['AUTH', password]) : '') + encode(args)));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (authPending) {
        const end = buf.indexOf('\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        if (head.startsWith('-')) return finish(() => reject(new Error(`redis ${host}:${port}: AUTH: ${head.slice(1)}`)));
        authPending = false;
        buf = buf.slice(end + 2);
        if (buf === '') return;
      }
      const lines = buf.split('\r\n');
      const head = lines[0] ?? '';
      if (head.startsWith('+') || head.startsWith(':')) return finish(() => resolve(head.slice(1)));
      if (head.startsWith('-')) return finish(() => reject(new Error(head.slice(1))));
      if (head === '*-1' || head === '$-1') return finish(() => resolve(null));
      if (head.startsWith('*')) {
        // Arrays of bulk strings: "$len", value, … (ROLE's nested arrays only matter for their first item).
        const n = Number(head.slice(1));
        const items: string[] = [];
        // An item counts once its line is complete (followed by \r\n): a reply may arrive in pieces.
        for (let i = 1; i + 2 < lines.length && items.length < n; i += 2) {
          if (!lines[i]!.startsWith('$')) break;
          items.push(lines[i + 1]!);
        }
        if (items.length === n || (items.length > 0 && args[0] === 'ROLE')) finish(() => resolve(items));
      }
    });
    s.on('error', (e) => finish(() => reject(e)));
  });
}

/** A Redis node's role ("master", "slave", "sentinel") from ROLE, or null when it does not answer. */
export async function redisRole(port: number, timeoutMs = 1_000, host = '127.0.0.1', password?: string): Promise<string | null> {
  const r = await redisCommand(port, ['ROLE'], timeoutMs, host, password).catch(() => null);
  return Array.isArray(r) ? (r[0] ?? null) : null;
}

/** The primary's port Sentinel reports for masterName (SENTINEL get-master-addr-by-name), or null. */
export async function sentinelMasterPort(sentinelPort: number, masterName: string, timeoutMs = 1_000, host = '127.0.0.1', password?: string): Promise<number | null> {
  const r = await redisCommand(sentinelPort, ['SENTINEL', 'get-master-addr-by-name', masterName], timeoutMs, host, password).catch(() => null);
  return Array.isArray(r) && r[1] !== undefined ? Number(r[1]) : null;
}
