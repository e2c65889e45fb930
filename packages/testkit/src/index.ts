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
    // Root over TCP without a password, only on loopback: a throwaway test server.
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''",
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
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

export interface RedisOptions {
  port: number;
  dir: string;
  /** TLS only on port (like ElastiCache with transit encryption): no plain-text port at all. */
  tls?: TlsFiles;
  /** AUTH password (ElastiCache's auth token). */
  password?: string;
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
  ], join(opts.dir, `redis-${opts.port}.log`));
  await waitForPort(opts.port);
  return { port: opts.port, pid: child.pid!, stop: () => stopProcess(child) };
}
