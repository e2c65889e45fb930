// One log line of any component → one row of the index. Pure. Each component writes its own format; the
// parsers read only what those formats promise (pino's standard fields, HAProxy's httplog, MariaDB's and
// nginx's error-log prefixes, Redis's "pid:role date level" prefix, logfmt), and anything else is kept
// as free text stamped with the time it was read.
import type { ResolvedDefinition } from '@conduit/definition';
import { readSupervisorLine } from '@conduit/local/console-reads';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export const levels: Level[] = ['debug', 'info', 'warn', 'error', 'fatal'];

export type Component =
  | 'api' | 'haproxy' | 'varnish' | 'nginx' | 'mariadb' | 'redis' | 'sentinel'
  | 'supervisor' | 'controller' | 'prometheus' | 'exporter' | 'alertmanager' | 'console' | 'other';

export interface LogRow {
  /** Epoch milliseconds. */
  ts: number;
  component: Component;
  /** The process (its log file's name): api-2, lb, db-a… */
  instance: string;
  level: Level;
  status: number | null;
  /** "GET /api/articles" (query string dropped). */
  route: string | null;
  requestId: string | null;
  msg: string;
}

/** Which software writes a process's log, from its name and the definition's nodes. */
export function componentOf(instance: string, d: Pick<ResolvedDefinition, 'dbNodes'>): Component {
  if (instance === 'supervisor') return 'supervisor';
  if (instance === 'db-failover' || instance.endsWith('-decisions')) return 'controller';
  if (instance === 'lb' || instance === 'haproxy') return 'haproxy';
  if (instance === 'edge' || instance === 'edge-access' || instance.startsWith('varnish')) return 'varnish';
  if (/^front-\d+$/.test(instance)) return 'nginx';
  if (/^api-\d+$/.test(instance)) return 'api';
  if (d.dbNodes.some((n) => n.name === instance)) return 'mariadb';
  if (/^redis-\d+$/.test(instance)) return 'redis';
  if (/^sentinel-\d+$/.test(instance)) return 'sentinel';
  if (instance === 'prometheus') return 'prometheus';
  if (instance.endsWith('-exporter')) return 'exporter';
  if (instance === 'alertmanager' || instance === 'alerts') return 'alertmanager';
  if (instance === 'console') return 'console';
  return 'other';
}

const months: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
/** Components without a zone in their timestamps write the machine's local time. */
const local = (y: number, mo: number, day: number, h: number, mi: number, s: number, ms = 0) => new Date(y, mo, day, h, mi, s, ms).getTime();

const pinoLevel = (v: unknown): Level => {
  if (typeof v === 'number') return v >= 60 ? 'fatal' : v >= 50 ? 'error' : v >= 40 ? 'warn' : v >= 30 ? 'info' : 'debug';
  const s = String(v).toLowerCase();
  if (s.startsWith('warn')) return 'warn';
  if (s === 'fatal' || s === 'crit' || s === 'critical' || s === 'alert' || s === 'emerg') return 'fatal';
  if (s.startsWith('err')) return 'error';
  if (s === 'debug' || s === 'trace') return 'debug';
  return 'info';
};
const statusLevel = (status: number | null, fallback: Level): Level => (status === null ? fallback : status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');
const stripQuery = (url: string) => url.split('?')[0]!;
const timeOf = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e12 ? v : v * 1000;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
};

function parseJson(line: string): Omit<LogRow, 'component' | 'instance'> | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object') return null;
  const req = (o.req ?? {}) as Record<string, unknown>;
  const res = (o.res ?? {}) as Record<string, unknown>;
  const status = typeof res.statusCode === 'number' ? res.statusCode : typeof o.status === 'number' ? o.status : null;
  const url = typeof req.url === 'string' ? req.url : typeof o.url === 'string' ? o.url : null;
  const method = typeof req.method === 'string' ? req.method : typeof o.method === 'string' ? o.method : null;
  // varnishncsa writes "-" for a header the response did not have.
  const reqId = [o.reqId, o.requestId, o.req_id, req.id].find((v) => v !== undefined && v !== '-');
  const msg = [o.msg, o.message, o.sentence].find((m) => typeof m === 'string') as string | undefined;
  const err = (o.err ?? {}) as Record<string, unknown>;
  return {
    ts: timeOf(o.time) ?? timeOf(o.at) ?? timeOf(o.ts) ?? timeOf(o.timestamp) ?? NaN,
    level: o.level !== undefined ? statusLevel(status, pinoLevel(o.level)) : o.kind === 'failover' ? 'warn' : statusLevel(status, 'info'),
    status,
    route: url ? `${method ? method + ' ' : ''}${stripQuery(url)}` : null,
    requestId: typeof reqId === 'string' || typeof reqId === 'number' ? String(reqId) : null,
    // An access log line (the edge's) has no message: say what happened.
    msg: [msg ?? (o.kind ? String(o.kind) : ''), typeof err.message === 'string' ? err.message : ''].filter(Boolean).join(': ')
      || (method && url && status !== null ? `${method} ${url} ${status}${typeof o.handling === 'string' ? ` ${o.handling}` : ''}${typeof o.us === 'number' ? ` ${(o.us / 1000).toFixed(1)} ms` : ''}` : line),
  };
}

// HAProxy's httplog, with the request id captured as the first request header ({...}).
const haproxyHttp =
  /^\S+:\d+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\] (\S+) (\S+) \S+ (-?\d+) \S+ \S+ \S+ (\S{4}) \S+ \S+ (?:\{([^}|]*)[^}]*\} )?(?:\{[^}]*\} )?"(\S+) (\S+)/;
const haproxyEvent = /^\[(NOTICE|WARNING|ALERT|EMERG)\]\s+\(\d+\)\s*:\s*(.*)$/;
const mariadb = /^(\d{4})-(\d{2})-(\d{2}) +(\d{1,2}):(\d{2}):(\d{2}) \d+ \[(\w+)\] (.*)$/;
const nginx = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[(\w+)\] \d+#\d+: (.*)$/;
const redis = /^\d+:[XCSM] (\d{1,2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) ([.\-*#]) (.*)$/;
const isoPrefix = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s+(.*)$/;
const logfmtTime = /(?:^|\s)(?:ts|time)=("?)(\S+?)\1(?:\s|$)/;
const logfmtLevel = /(?:^|\s)level=(\w+)/;
const logfmtMsg = /(?:^|\s)msg=(?:"((?:[^"\\]|\\.)*)"|(\S+))/;

export function parseLine(component: Component, instance: string, line: string, readAt: number): LogRow {
  const row = (r: Partial<Omit<LogRow, 'component' | 'instance'>>): LogRow => ({
    ts: r.ts !== undefined && Number.isFinite(r.ts) ? r.ts : readAt,
    component, instance,
    level: r.level ?? 'info', status: r.status ?? null, route: r.route ?? null, requestId: r.requestId ?? null,
    msg: r.msg ?? line,
  });
  if (line.startsWith('{')) {
    const j = parseJson(line);
    if (j) return row(j);
  }
  let m: RegExpExecArray | null;
  switch (component) {
    case 'haproxy':
      if ((m = haproxyHttp.exec(line))) {
        const status = Number(m[10]);
        const flags = m[11]!;
        return row({
          ts: local(+m[3]!, months[m[2]!] ?? 0, +m[1]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!),
          status: status < 0 ? null : status,
          // A termination state other than "----" (client abort, timeout, no server…) is an error.
          level: flags.startsWith('--') ? statusLevel(status < 0 ? null : status, 'info') : 'error',
          route: `${m[13]} ${stripQuery(m[14]!)}`,
          requestId: m[12] || null,
          msg: line,
        });
      }
      if ((m = haproxyEvent.exec(line))) return row({ level: ({ NOTICE: 'info', WARNING: 'warn', ALERT: 'error', EMERG: 'fatal' } as const)[m[1] as 'NOTICE'], msg: m[2]! });
      break;
    case 'mariadb':
      if ((m = mariadb.exec(line))) return row({ ts: local(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!), level: pinoLevel(m[7] === 'Note' ? 'info' : m[7]), msg: m[8]! });
      break;
    case 'nginx':
      if ((m = nginx.exec(line))) return row({ ts: local(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!), level: pinoLevel(m[7] === 'notice' ? 'info' : m[7]), msg: m[8]! });
      break;
    case 'redis':
    case 'sentinel':
      if ((m = redis.exec(line))) {
        const level = ({ '.': 'debug', '-': 'debug', '*': 'info', '#': 'warn' } as const)[m[8] as '.' | '-' | '*' | '#'];
        return row({ ts: local(+m[3]!, months[m[2]!] ?? 0, +m[1]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!), level, msg: m[9]! });
      }
      break;
    case 'supervisor': {
      // JSON lines {"time","level","msg"} (or the `ISO-time message` lines of older regions).
      const l = readSupervisorLine(line);
      if (l) return row({ ts: l.at, level: l.level, msg: l.msg });
      break;
    }
    default:
      break;
  }
  // logfmt (Prometheus, Alertmanager, the exporters) or a line that starts with an ISO time.
  const t = logfmtTime.exec(line);
  if (t) {
    const msg = logfmtMsg.exec(line);
    return row({ ts: Date.parse(t[2]!), level: pinoLevel(logfmtLevel.exec(line)?.[1] ?? 'info'), msg: msg ? (msg[1] ?? msg[2])!.replace(/\\"/g, '"') : line });
  }
  if ((m = isoPrefix.exec(line))) return row({ ts: Date.parse(m[1]!), msg: m[2]! });
  return row({ level: /\berror\b|\bfatal\b|panic/i.test(line) ? 'error' : /\bwarn/i.test(line) ? 'warn' : 'info' });
}
