// Throwaway real servers for tests: each gets its own port and data folder under the given state dir,
// and is stopped by the handle's stop(). Nothing here is a mock: these are Debian's mariadbd and redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface ServerHandle {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Resolves when something accepts TCP connections on 127.0.0.1:port, rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Throws when something already listens on 127.0.0.1:port: a test must never talk to a stranger's server. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const taken = await new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  if (taken) throw new Error(`port ${port} (${what}) is already in use: stop what listens there or pick another port`);
}

/** Sends SIGTERM to the process group, then SIGKILL after graceMs if it is still alive. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(timer);
}

function spawnServer(cmd: string, args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  return child;
}

/** A CA and a server certificate signed by it (PEM files). */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A throwaway CA and a server certificate for `names` (default 127.0.0.1 and localhost), made with Debian's
 * openssl in dir (EC P-256, valid 2 days). Nothing is downloaded; each call makes a new CA.
 */
export async function generateCertificates(dir: string, names: string[] = ['127.0.0.1', 'localhost']): Promise<TlsFiles> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await execFileP('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=conduit test CA']);
  await execFileP('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${names[0]}`]);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(f('server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  await execFileP('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

export interface MariaDbOptions {
  port: number;
  dir: string;
  /** Database created at start (empty). */
  database?: string;
  /** Serve TLS with these files and refuse any TCP connection without it (require_secure_transport). */
  tls?: TlsFiles;
  /**
   * Replication member (startMariaDbReplicaSet): binary log with GTIDs, row events, this server id and
   * semi-sync AFTER_SYNC, as the local region's nodes. Default: none (a standalone server, no binary log).
   */
  serverId?: number;
}

/** The my.cnf lines of a replication member (the local region's settings, durability included). */
function replicationCnf(dir: string, serverId: number): string[] {
  return [
    `server_id=${serverId}`,
    `log_bin=${join(dir, 'data', 'binlog')}`,
    'log_slave_updates=ON',
    'binlog_format=ROW',
    'gtid_strict_mode=ON',
    // The replica side acknowledges everywhere; the primary side is switched on at run time on the primary only.
    'rpl_semi_sync_slave_enabled=ON',
    'rpl_semi_sync_master_wait_point=AFTER_SYNC',
    'rpl_semi_sync_master_timeout=10000',
  ];
}

/** A fresh MariaDB with an empty datadir, root without password over TCP on 127.0.0.1:port. */
export async function startMariaDb(opts: MariaDbOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'test MariaDB');
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const cnf = join(opts.dir, 'my.cnf');
  writeFileSync(cnf, [
    '[mariadbd]',
    `datadir=${join(opts.dir, 'data')}`,
    `socket=${join(opts.dir, 'mysqld.sock')}`,
    `pid-file=${join(opts.dir, 'mysqld.pid')}`,
    `port=${opts.port}`,
    'bind-address=127.0.0.1',
    'user=root',
    'skip-name-resolve',
    // Tests create and drop a lot; durability is not what they measure.
    'innodb_flush_log_at_trx_commit=2',
    'sync_binlog=0',
    ...(opts.serverId === undefined ? [] : replicationCnf(opts.dir, opts.serverId)),
    'innodb_buffer_pool_size=128M',
    'max_connections=500',
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_unicode_ci',
    // TCP clients must use TLS; the unix socket (the admin statements below) counts as secure.
    ...(opts.tls ? [`ssl-ca=${opts.tls.ca}`, `ssl-cert=${opts.tls.cert}`, `ssl-key=${opts.tls.key}`, 'require_secure_transport=ON'] : []),
    '',
  ].join('\n'));
  await execFileP('mariadb-install-db', [`--defaults-file=${cnf}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'], { maxBuffer: 10 * 1024 * 1024 });
  const child = spawnServer('mariadbd', [`--defaults-file=${cnf}`], join(opts.dir, 'mariadb.log'));
  await waitForPort(opts.port);
  const sql = [
    // Users are per server (not replicated): replicas must not log transactions of their own.
    opts.serverId === undefined ? '' : 'SET SESSION sql_log_bin=0',
    // Root over TCP without a password, only on loopback: a throwaway test server.
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''",
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
    opts.serverId === undefined ? '' : 'SET SESSION sql_log_bin=1',
    opts.database ? `CREATE DATABASE IF NOT EXISTS \`${opts.database}\`` : '',
  ].filter(Boolean).join('; ');
  // The TCP port can open before the unix socket the first admin statement needs: retry briefly.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await execFileP('mariadb', [`--socket=${join(opts.dir, 'mysqld.sock')}`, '-uroot', '-e', sql]);
      break;
    } catch (e) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stopProcess(child);
        throw new Error(`MariaDB on port ${opts.port} did not accept the setup statements: ${(e as Error).message.split('\n')[0]} (log: ${join(opts.dir, 'mariadb.log')})`);
      }
      await sleep(100);
    }
  }
  return { port: opts.port, pid: child.pid!, stop: () => stopProcess(child) };
}

/** Runs statements as root over the server's unix socket; returns the tab-separated rows. */
async function adminSql(dir: string, sql: string): Promise<string[][]> {
  const { stdout } = await execFileP('mariadb', [`--socket=${join(dir, 'mysqld.sock')}`, '-uroot', '-N', '-B', '-e', sql]);
  return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

export interface ReplicaSetOptions {
  /** The primary's port first, then one port per replica. */
  ports: number[];
  /** Each server gets the folder <dir>/<port>. */
  dir: string;
  /** Created on the primary (the replicas get it by replication). */
  database: string;
  /** Starts one server; default startMariaDb (callers may add leftover handling and retries). */
  start?: (opts: MariaDbOptions) => Promise<ServerHandle>;
}

export interface SemiSyncStatus {
  /** Rpl_semi_sync_master_status: ON while commits wait for a replica's acknowledgement. */
  on: boolean;
  /** Replicas connected with semi-sync. */
  clients: number;
  /** Commits acknowledged by a replica / committed without an acknowledgement (fell back to async). */
  yesTx: number;
  noTx: number;
}

export interface ReplicaSetHandle {
  primary: ServerHandle;
  replicas: ServerHandle[];
  semiSync(): Promise<SemiSyncStatus>;
  stop(): Promise<void>;
}

/**
 * A MariaDB primary and its replicas, as the local region runs them: GTID replication, the semi-sync
 * primary side (AFTER_SYNC) on, every replica connected and acknowledging before this resolves.
 */
export async function startMariaDbReplicaSet(opts: ReplicaSetOptions): Promise<ReplicaSetHandle> {
  const start = opts.start ?? startMariaDb;
  const [primaryPort, ...replicaPorts] = opts.ports;
  if (primaryPort === undefined || replicaPorts.length === 0) throw new Error('startMariaDbReplicaSet: ports needs a primary port and at least one replica port');
  const dirOf = (port: number) => join(opts.dir, String(port));
  const started: ServerHandle[] = [];
  const stopAll = async () => { await Promise.all(started.map((s) => s.stop())); };
  try {
    for (const [i, port] of opts.ports.entries()) {
      started.push(await start({ port, dir: dirOf(port), serverId: i + 1, ...(i === 0 ? { database: opts.database } : {}) }));
    }
    await adminSql(dirOf(primaryPort), 'SET GLOBAL rpl_semi_sync_master_enabled=ON');
    for (const port of replicaPorts) {
      await adminSql(dirOf(port), [
        'SET GLOBAL read_only=ON',
        `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
        'START SLAVE',
      ].join('; '));
    }
    const semiSync = async (): Promise<SemiSyncStatus> => {
      const rows = new Map((await adminSql(dirOf(primaryPort), "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'")).map(([k, v]) => [k!.toLowerCase(), v!]));
      const n = (k: string) => Number(rows.get(`rpl_semi_sync_master_${k}`) ?? 0);
      return { on: rows.get('rpl_semi_sync_master_status') === 'ON', clients: n('clients'), yesTx: n('yes_tx'), noTx: n('no_tx') };
    };
    const deadline = Date.now() + 15_000;
    for (;;) {
      const s = await semiSync();
      if (s.on && s.clients === replicaPorts.length) break;
      if (Date.now() > deadline) throw new Error(`MariaDB replica set: ${s.clients} of ${replicaPorts.length} replicas acknowledge after 15 s (logs under ${opts.dir})`);
      await sleep(100);
    }
    return { primary: started[0]!, replicas: started.slice(1), semiSync, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface RedisOptions {
  port: number;
  dir: string;
  /** TLS only on port (like ElastiCache with transit encryption): no plain-text port at all. */
  tls?: TlsFiles;
  /** AUTH password (ElastiCache's auth token). */
  password?: string;
  /**
   * ACL users instead (ElastiCache RBAC): each `NAME RULES…` as redis.conf's `user` directive takes it, e.g.
   * `default off -@all` and `conduit-api on >password ~conduit:* …`.
   */
  users?: string[];
}

/** A fresh Redis without persistence on 127.0.0.1:port. */
export async function startRedis(opts: RedisOptions): Promise<ServerHandle> {
  await assertPortFree(opts.port, 'test Redis');
  mkdirSync(opts.dir, { recursive: true });
  const listen = opts.tls
    ? ['--port', '0', '--tls-port', String(opts.port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(opts.port)];
  const child = spawnServer('redis-server', [
    ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', opts.dir,
    ...(opts.password ? ['--requirepass', opts.password] : []),
    // On the command line each `--user` takes the words up to the next `--option` (one config line).
    ...(opts.users ?? []).flatMap((u) => ['--user', ...u.split(' ')]),
  ], join(opts.dir, `redis-${opts.port}.log`));
  await waitForPort(opts.port);
  return { port: opts.port, pid: child.pid!, stop: () => stopProcess(child) };
}
