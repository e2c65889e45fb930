// Admin connections to MariaDB over a node's Unix socket (never TCP), and the mariadb tools run against
// it: as the OS user running the region (unix_socket authentication, no password: root when the region
// runs as root), or as a given login such as the failover controller's admin user. Every connection
// has a deadline: a hung server (SIGSTOP) must never hold a controller tick or a bootstrap.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { runOnce } from './spawn.js';
import mysql from 'mysql2/promise';

/** An account that logs in over the socket; no password means unix_socket (the OS user of that name). */
export interface AdminLogin {
  user: string;
  password?: string;
}

/** The MariaDB account of the OS user running the region (unix_socket): root when that user is root. */
export const adminSocketUser = () => userInfo().username;
const socketLogin = (): AdminLogin => ({ user: adminSocketUser() });

/** A mariadb tool's login: the socket and user in argv, the password in the environment (ps shows argv to everyone, the environment to the same user only). */
const toolLogin = (socketPath: string, as: AdminLogin) => ({
  args: [`--socket=${socketPath}`, `--user=${as.user}`],
  env: { ...process.env, MYSQL_PWD: as.password ?? '' },
});

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

/** mariadb-binlog arguments reading a node's binlog after startGtid (exclusive) to its end, through its socket. */
async function binlogTailArgs(socketPath: string, node: string, startGtid: string, extra: string[], as: AdminLogin): Promise<string[]> {
  const [logs] = (await runSql(socketPath, node, ['SHOW BINARY LOGS'], { timeoutMs: 3_000, login: as })) as { Log_name: string }[][];
  const first = logs?.[0]?.Log_name;
  if (!first) throw new Error(`${node} has no binlog after ${startGtid}`);
  return ['--read-from-remote-server', ...toolLogin(socketPath, as).args, ...extra, `--start-position=${startGtid}`, '--to-last-log', first];
}

/**
 * Copies a node's transactions after startGtid (exclusive) to `file` before anything undoes them: the
 * binlog events as mariadb-binlog prints them (replayable with `mariadb < file`), rows decoded in
 * comments (--verbose) so an operator can read what they were. The file is written mode 600.
 */
export async function saveBinlogTail(socketPath: string, node: string, startGtid: string, file: string, timeoutMs = 20_000, as: AdminLogin = socketLogin()): Promise<void> {
  const args = await binlogTailArgs(socketPath, node, startGtid, ['--verbose', `--result-file=${file}`], as);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  await new Promise<void>((resolve, reject) => {
    const dump = spawn('mariadb-binlog', args, { stdio: ['ignore', 'ignore', 'pipe'], env: toolLogin(socketPath, as).env });
    let errors = '';
    dump.stderr.on('data', (b) => (errors += b.toString()));
    const timer = setTimeout(() => dump.kill('SIGKILL'), timeoutMs);
    dump.on('error', reject);
    dump.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) {
        chmodSync(file, 0o600);
        resolve();
      } else reject(new Error(`saving ${node}'s transactions after ${startGtid} to ${file} failed (mariadb-binlog ${code}): ${errors.trim().split('\n').slice(-2).join(' ')}`));
    });
  });
}

/**
 * Undoes a node's transactions after startGtid (exclusive): mariadb-binlog --flashback reads its binlog
 * (row events) and writes the inverse events, which the mariadb client applies with the binlog off.
 */
export async function flashback(socketPath: string, node: string, startGtid: string, timeoutMs = 20_000, as: AdminLogin = socketLogin()): Promise<void> {
  const args = await binlogTailArgs(socketPath, node, startGtid, ['--flashback'], as);
  const login = toolLogin(socketPath, as);
  const r = await pipeline(['mariadb-binlog', args], ['mariadb', [...login.args, '--init-command=SET SESSION sql_log_bin = 0']], timeoutMs, login.env);
  if (r.codes[0] !== 0 || r.codes[1] !== 0) throw new Error(`flashback of ${node} from ${startGtid} failed (mariadb-binlog ${r.codes[0]}, mariadb ${r.codes[1]}): ${r.errors}`);
}

/** `a | b`: resolves once both exited, with their exit codes (null: killed, e.g. past timeoutMs) and the tail of their stderr. */
function pipeline(a: [string, string[]], b: [string, string[]], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ codes: [number | null, number | null]; errors: string }> {
  return new Promise((resolve, reject) => {
    const from = spawn(a[0], a[1], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const to = spawn(b[0], b[1], { stdio: ['pipe', 'ignore', 'pipe'], env });
    let errors = '';
    const keep = (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000));
    from.stderr.on('data', keep);
    to.stderr.on('data', keep);
    from.stdout.pipe(to.stdin);
    const timer = setTimeout(() => { from.kill('SIGKILL'); to.kill('SIGKILL'); }, timeoutMs);
    const exited = (p: { on(e: 'close', f: (code: number | null) => void): unknown }) => new Promise<number | null>((res) => p.on('close', res));
    from.on('error', reject);
    to.on('error', reject);
    void Promise.all([exited(from), exited(to)]).then((codes) => {
      clearTimeout(timer);
      resolve({ codes, errors: errors.trim().split('\n').slice(-2).join(' ') });
    });
  });
}

/** Name of the file mariadb-backup leaves in a data dir: the source's binlog coordinates and GTID at the copy. */
export const CLONE_INFO_FILE = 'xtrabackup_binlog_info';

/** The GTID position a cloned data dir holds (third column of xtrabackup_binlog_info), '' when none. */
export const cloneGtid = (binlogInfo: string) => binlogInfo.trim().split(/\s+/)[2] ?? '';

/**
 * Re-clones a node whose data cannot be reused: streams a physical copy of a healthy node
 * (`mariadb-backup --backup --stream=xbstream` over its socket, unpacked by `mbstream -x`) into an empty
 * `dataDir` (the old one is moved aside, not deleted), then prepares it (`--prepare`). The copy keeps
 * xtrabackup_binlog_info: the failover controller sets the node's gtid_slave_pos from it before it
 * replicates (a restored server's own gtid_slave_pos is stale). Returns the copy's GTID position.
 */
export async function cloneDataDir(sourceSocket: string, dataDir: string, timeoutMs = 120_000, as: AdminLogin = socketLogin()): Promise<string> {
  if (existsSync(dataDir)) renameSync(dataDir, `${dataDir}.broken-${Date.now()}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const scratch = `${dataDir}.clone-tmp`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const login = toolLogin(sourceSocket, as);
  const r = await pipeline(['mariadb-backup', ['--backup', '--stream=xbstream', ...login.args, `--target-dir=${scratch}`]], ['mbstream', ['-x', '-C', dataDir]], timeoutMs, login.env);
  if (r.codes[0] !== 0 || r.codes[1] !== 0) throw new Error(`streaming a copy from ${sourceSocket} failed (mariadb-backup ${r.codes[0]}, mbstream ${r.codes[1]}): ${r.errors}`);
  rmSync(scratch, { recursive: true, force: true });
  await runOnce('mariadb-backup', ['--prepare', `--target-dir=${dataDir}`], { timeoutMs });
  return cloneGtid(readFileSync(join(dataDir, CLONE_INFO_FILE), 'utf8'));
}
