// The one HAProxy runtime API client (`stats socket … level admin`): commands, and `show stat` parsed
// by column name. Backend names come from the generator (BACKENDS).
import { createConnection } from 'node:net';

/** Sends commands (one line, `;`-separated) to HAProxy's runtime API and returns its answer. */
export function haproxyCommand(socketPath: string, command: string | string[], timeoutMs = 2_000): Promise<string> {
  const line = typeof command === 'string' ? command : command.join('; ');
  return new Promise((resolve, reject) => {
    const s = createConnection({ path: socketPath });
    let out = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`HAProxy runtime API: no answer to "${line}" in ${timeoutMs} ms`)); }, timeoutMs);
    s.on('connect', () => s.write(`${line}\n`));
    s.on('data', (d) => { out += d.toString('utf8'); });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

/** Like haproxyCommand, but an answer saying HAProxy refused (unknown server, wrong state…) is an error. */
export async function haproxyAct(socketPath: string, commands: string[], timeoutMs = 2_000): Promise<void> {
  const out = await haproxyCommand(socketPath, commands, timeoutMs);
  const problem = out.split('\n').find((l) => /No such|Unknown|not found|Require|denied/i.test(l));
  if (problem) throw new Error(`HAProxy refused \`${commands.join('; ')}\`: ${problem.trim()}`);
}

/** One server of a backend, from `show stat`. */
export interface ServerStat {
  name: string;
  /** HAProxy's status column: UP, DOWN, MAINT, DRAIN, "UP 1/2"… */
  status: string;
  /** Operationally up (passing its checks), whatever its admin state. */
  up: boolean;
  /** Put in maintenance by an operator, the config (`disabled`) or the runtime API. */
  maint: boolean;
  /** Sessions now (scur) and since start (stot). */
  current: number;
  total: number;
  /** Responses with a 5xx status it sent (hrsp_5xx). */
  http5xx: number;
  /** Average response time of its last 1024 responses, ms (rtime). */
  rtimeMs: number;
  /**
   * Requests HAProxy took away from it and retried elsewhere (max of wretr, wredis): with `retry-on`, a
   * GET it answered with a 5xx is retried on another server, and that 5xx does not reach hrsp_5xx.
   */
  retried: number;
  /** Times its checks took it from UP to DOWN since HAProxy started (chkdown). */
  checksDown: number;
}

export interface BackendStat {
  /** The backend's cumulative request counter (req_tot, else stot); null when HAProxy has none. */
  requests: number | null;
  servers: ServerStat[];
}

/** `show stat` CSV → per backend, its request counter and its servers. Columns are found by name. */
export function parseShowStat(csv: string): Map<string, BackendStat> {
  const lines = csv.split('\n').filter(Boolean);
  const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const col = (name: string) => header.indexOf(name);
  const [iPx, iSv, iStatus, iScur, iStot, iReq, i5xx, iRtime, iRetr, iRedis, iChkDown] = ['pxname', 'svname', 'status', 'scur', 'stot', 'req_tot', 'hrsp_5xx', 'rtime', 'wretr', 'wredis', 'chkdown'].map(col) as number[] as [number, number, number, number, number, number, number, number, number, number, number];
  const out = new Map<string, BackendStat>();
  for (const l of lines) {
    if (l.startsWith('#')) continue;
    const f = l.split(',');
    const px = f[iPx] ?? '';
    const sv = f[iSv] ?? '';
    if (sv === 'FRONTEND') continue;
    const b = out.get(px) ?? { requests: null, servers: [] };
    out.set(px, b);
    if (sv === 'BACKEND') {
      const req = iReq >= 0 && f[iReq] !== '' ? Number(f[iReq]) : Number(f[iStot]);
      b.requests = Number.isFinite(req) ? req : null;
    } else {
      const status = f[iStatus] ?? '';
      b.servers.push({ name: sv, status, up: /^(UP|DRAIN|NOLB)/.test(status), maint: status.startsWith('MAINT'), current: Number(f[iScur]) || 0, total: Number(f[iStot]) || 0, http5xx: Number(f[i5xx]) || 0, rtimeMs: Number(f[iRtime]) || 0, retried: Math.max(Number(f[iRetr]) || 0, Number(f[iRedis]) || 0), checksDown: Number(f[iChkDown]) || 0 });
    }
  }
  return out;
}

/** A backend's counter and servers right now. */
export async function backendStat(socketPath: string, backend: string, timeoutMs = 2_000): Promise<BackendStat> {
  return parseShowStat(await haproxyCommand(socketPath, 'show stat', timeoutMs)).get(backend) ?? { requests: null, servers: [] };
}

/** The servers of a backend right now. */
export async function haproxyServers(socketPath: string, backend: string): Promise<ServerStat[]> {
  return (await backendStat(socketPath, backend)).servers;
}
