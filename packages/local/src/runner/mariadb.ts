// Admin connections to MariaDB over a node's Unix socket (never TCP), and the mariadb tools run against
// it: as the OS user running the region (unix_socket authentication, no password: root when the region
// runs as root), or as a given login such as the failover controller's admin user. Every connection
// has a deadline: a hung server (SIGSTOP) must never hold a controller tick or a bootstrap.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import mysql from 'mysql2/promise';

/** An account that logs in over the socket; no password means unix_socket (the OS user of that name). */
export interface AdminLogin {
  user: string;
  password?: string;
}

/** The MariaDB account of the OS user running the region (unix_socket): root when that user is root. */
export const adminSocketUser = () => userInfo().username;
const socketLogin = (): AdminLogin => ({ user: adminSocketUser() });

const transient = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN']);
const hidePasswords = (sql: string) => sql.replace(/PASSWORD\s*=?\s*'(?:[^'\\]|\\.)*'|IDENTIFIED BY '(?:[^'\\]|\\.)*'/g, '<password>');

/**
 * Opens an admin connection, runs fn, closes it. Past timeoutMs (connecting included) it fails with
 * code TIMEOUT and the connection is destroyed instead of waiting for a polite close.
 */
export async function withNode<T>(socketPath: string, fn: (c: mysql.Connection) => Promise<T>, timeoutMs = 5_000, login: AdminLogin = socketLogin()): Promise<T> {
  let conn: mysql.Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${socketPath}: no answer in ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
  });
  let ok = false;
  try {
    const r = await Promise.race([(async () => {
      conn = await mysql.createConnection({ socketPath, user: login.user, password: login.password ?? '', connectTimeout: timeoutMs, multipleStatements: false, supportBigNumbers: true, bigNumberStrings: true });
      return fn(conn);
    })(), deadline]);
    ok = true;
    return r;
  } finally {
    clearTimeout(timer);
    const c = conn as mysql.Connection | undefined;
    if (c) {
      if (ok) void c.end().catch(() => c.destroy());
      else c.destroy();
    }
  }
}

export async function queryNode<T = Record<string, unknown>>(socketPath: string, sql: string, timeoutMs = 5_000, login?: AdminLogin): Promise<T[]> {
  return withNode(socketPath, async (c) => {
    const [rows] = await c.query(sql);
    return rows as T[];
  }, timeoutMs, login);
}

/**
 * Runs statements in order on one node and returns each one's result; an error names the node and the
 * statement (passwords hidden). With retryMs, a connection that fails while the server finishes
 * starting is retried (steps are safe to repeat).
 */
export async function runSql(socketPath: string, node: string, statements: string[], opts: { timeoutMs?: number; retryMs?: number; login?: AdminLogin } = {}): Promise<unknown[]> {
  const deadline = Date.now() + (opts.retryMs ?? 0);
  for (;;) {
    try {
      return await withNode(socketPath, async (c) => {
        const results: unknown[] = [];
        for (const sql of statements) {
          try {
            const [r] = await c.query(sql);
            results.push(r);
          } catch (e) {
            throw Object.assign(new Error(`${node}: \`${hidePasswords(sql)}\` failed: ${(e as Error).message}`), { code: (e as { code?: string }).code });
          }
        }
        return results;
      }, opts.timeoutMs ?? 5_000, opts.login);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!transient.has(code) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Undoes a node's transactions after startGtid (exclusive): mariadb-binlog --flashback reads its binlog
 * (row events) and writes the inverse events, which the mariadb client applies with the binlog off.
 */
export async function flashback(socketPath: string, node: string, startGtid: string, timeoutMs = 20_000, as: AdminLogin = socketLogin()): Promise<void> {
  const [logs] = (await runSql(socketPath, node, ['SHOW BINARY LOGS'], { timeoutMs: 3_000, login: as })) as { Log_name: string }[][];
  const first = logs?.[0]?.Log_name;
  if (!first) throw new Error(`${node} has no binlog to flash back`);
  const login = [`--socket=${socketPath}`, `--user=${as.user}`];
  // The password goes through the environment (readable by the same user only), not argv (ps shows argv to everyone).
  const env = { ...process.env, MYSQL_PWD: as.password ?? '' };
  await new Promise<void>((resolve, reject) => {
    const dump = spawn('mariadb-binlog', ['--read-from-remote-server', ...login, '--flashback', `--start-position=${startGtid}`, '--to-last-log', first], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const apply = spawn('mariadb', [...login, '--init-command=SET SESSION sql_log_bin = 0'], { stdio: ['pipe', 'ignore', 'pipe'], env });
    let errors = '';
    dump.stderr.on('data', (b) => (errors += b.toString()));
    apply.stderr.on('data', (b) => (errors += b.toString()));
    dump.stdout.pipe(apply.stdin);
    const timer = setTimeout(() => { dump.kill('SIGKILL'); apply.kill('SIGKILL'); }, timeoutMs);
    let dumpCode: number | null = null;
    dump.on('close', (c) => (dumpCode = c));
    dump.on('error', reject);
    apply.on('error', reject);
    apply.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && (dumpCode === 0 || dumpCode === null)) resolve();
      else reject(new Error(`flashback of ${node} from ${startGtid} failed (mariadb-binlog ${dumpCode}, mariadb ${code}): ${errors.trim().split('\n').slice(-2).join(' ')}`));
    });
  });
}
