// Integration: the failover controller on real MariaDB servers (primary + 2 replicas, GTID, semi-sync
// AFTER_SYNC on the primary only) behind a real HAProxy writer/reader endpoint. Ports 23000-23999.
// Given writes flowing through the writer endpoint, when the primary is SIGKILLed, then the controller
// promotes the most advanced replica, writes resume within 3 s, no acknowledged write is lost, and the old
// primary rejoins as a replica when restarted.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { resolve, type DbNode } from '@conduit/definition';
import { stopProcess, waitForPort } from '@conduit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbFailoverController } from '../src/controllers/db-failover.js';
import { startControllers } from '../src/controllers/load.js';
import { controllerJournal, openEntries } from '../src/journal.js';
import { ADMIN_PRIVILEGES, dbSocket, haproxyCommand, haproxyServers, loadOrCreateSecrets, primarySql, readTopology, statePaths, writeTopology } from '../src/index.js';

const execFileP = promisify(execFile);
// The repository's own .test-state (git-ignored), wherever the checkout is.
const stateDir = fileURLToPath(new URL('../../../.test-state/db-failover', import.meta.url));
const definition = resolve({
  name: 'dbf',
  zones: 3,
  regions: { secondary: null },
  backup: { copyToSecondary: false },
  // promote: the rewind test below makes the primary commit alone, then kills it, to get an errant transaction
  // (with the default `wait` the controller would not promote; drills/replicas-lost-then-primary-dies shows that).
  database: { replicas: 2, failoverAfterMs: 1000, stallFailoverAfterMs: 3000, semiSyncTimeoutMs: 5000, asyncPrimaryFailover: 'promote' },
  local: {
    stateDir,
    ports: {
      edge: 23080, edgeAdmin: 23081, front: 23090, api: 23091, lbStats: 23404, frontInstancesBase: 23100, apiInstancesBase: 23200,
      dbWriter: 23006, dbReader: 23007, dbNodesBase: 23010, redisBase: 23379, sentinelBase: 23479, prometheus: 23900, mysqldExporter: 23904, redisExporter: 23921,
    },
  },
});
const repl = { user: 'repl', password: "r3pl'pass" };
const admin = { user: 'ctl', password: 'ctl-pass' };
const paths = statePaths(stateDir);
const haproxySocket = paths.haproxySocket;
const children = new Map<string, ChildProcess>();
const nodeDir = (n: DbNode) => join(stateDir, 'data', n.name);

function spawnLogged(name: string, cmd: string, args: string[]) {
  const out = openSync(join(stateDir, 'logs', `${name}.log`), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  children.set(name, child);
  return child;
}

function cnf(n: DbNode): string {
  const dir = nodeDir(n);
  return [
    '[mariadbd]',
    `datadir=${join(dir, 'data')}`,
    `socket=${dbSocket(paths, n)}`,
    `port=${n.port}`,
    // Its own tmpdir: parallel mariadb-install-db runs collide on /tmp temporary tables.
    `tmpdir=${join(dir, 'tmp')}`,
    'bind-address=127.0.0.1',
    'user=root',
    'skip-name-resolve',
    `server_id=${n.serverId}`,
    'log_bin=binlog',
    'log_slave_updates=ON',
    'binlog_format=ROW',
    'gtid_strict_mode=ON',
    // Fencing: every node starts read-only; only the controller or the bootstrap opens the primary.
    'read_only=ON',
    // A crashed primary restarts as a semi-sync slave: crash recovery then truncates the binlog tail of
    // transactions no replica acknowledged (prepared, never committed), so it can rejoin without errant GTIDs.
    'rpl_semi_sync_slave_enabled=ON',
    'init_rpl_role=SLAVE',
    'innodb_buffer_pool_size=64M',
    'innodb_flush_log_at_trx_commit=1',
    'sync_binlog=1',
    '',
  ].join('\n');
}

async function startNode(n: DbNode, extraArgs: string[] = []) {
  spawnLogged(n.name, 'mariadbd', [`--defaults-file=${join(nodeDir(n), 'my.cnf')}`, ...extraArgs]);
  await waitForPort(n.port, 20_000);
}

const rootTcp = (n: DbNode) => ({ host: '127.0.0.1', port: n.port, user: 'root', password: '' });
async function q(n: DbNode, sql: string) {
  const c = await mysql.createConnection(rootTcp(n));
  try {
    const [r] = await c.query(sql);
    return r as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

const nodes = definition.dbNodes;
const [dbA, dbB, dbC] = nodes as [DbNode, DbNode, DbNode];

beforeAll(async () => {
  rmSync(stateDir, { recursive: true, force: true });
  for (const d of ['logs', 'run/db', 'config']) mkdirSync(join(stateDir, d), { recursive: true });
  await Promise.all(
    nodes.map(async (n) => {
      mkdirSync(join(nodeDir(n), 'data'), { recursive: true });
      mkdirSync(join(nodeDir(n), 'tmp'), { recursive: true });
      writeFileSync(join(nodeDir(n), 'my.cnf'), cnf(n));
      await execFileP('mariadb-install-db', [`--defaults-file=${join(nodeDir(n), 'my.cnf')}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal']);
      await startNode(n);
      // Local accounts, kept out of the binlog so no node holds transactions the others lack.
      await execFileP('mariadb', [`--socket=${dbSocket(paths, n)}`, '-uroot', '-e', [
        'SET sql_log_bin = 0',
        "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''",
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
        `CREATE USER IF NOT EXISTS '${repl.user}'@'127.0.0.1' IDENTIFIED BY 'r3pl\\'pass'`,
        `GRANT REPLICATION SLAVE ON *.* TO '${repl.user}'@'127.0.0.1'`,
        // The controller's own login, as the region creates it: socket only, its privileges only.
        `CREATE USER IF NOT EXISTS '${admin.user}'@'localhost' IDENTIFIED BY '${admin.password}'`,
        `GRANT ${ADMIN_PRIVILEGES.join(', ')} ON *.* TO '${admin.user}'@'localhost'`,
      ].join('; ')]);
    }),
  );
  // Bootstrap as the region does: open db-a with semi-sync, replicas follow it.
  await q(dbA, "SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC");
  await q(dbA, 'SET GLOBAL rpl_semi_sync_master_wait_no_slave = OFF');
  await q(dbA, 'SET GLOBAL rpl_semi_sync_master_timeout = 5000');
  await q(dbA, 'SET GLOBAL rpl_semi_sync_master_enabled = ON');
  await q(dbA, 'SET GLOBAL read_only = OFF');
  await q(dbA, 'CREATE DATABASE ledger');
  await q(dbA, 'CREATE TABLE ledger.writes (id VARCHAR(64) PRIMARY KEY) ENGINE=InnoDB');
  for (const r of [dbB, dbC]) {
    await q(r, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${dbA.port}, MASTER_USER='repl', MASTER_PASSWORD='r3pl\\'pass', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`);
    await q(r, 'START SLAVE');
  }
  writeTopology(paths, { primary: 'db-a', replicas: ['db-b', 'db-c'], updatedAt: new Date().toISOString() });
  const p = definition.local.ports;
  writeFileSync(join(stateDir, 'config', 'haproxy.cfg'), [
    'global',
    `    stats socket ${haproxySocket} mode 600 level admin`,
    '    maxconn 2000',
    'defaults',
    '    mode tcp',
    '    timeout connect 1s',
    '    timeout client 1h',
    '    timeout server 1h',
    'frontend fe_db_writer',
    `    bind 127.0.0.1:${p.dbWriter}`,
    '    default_backend be_db_writer',
    'backend be_db_writer',
    '    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.port} check${n.name === 'db-a' ? '' : ' disabled'}`),
    'frontend fe_db_reader',
    `    bind 127.0.0.1:${p.dbReader}`,
    '    default_backend be_db_reader',
    'backend be_db_reader',
    '    balance leastconn',
    '    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.port} check${n.name === 'db-a' ? ' backup' : ''}`),
    '',
  ].join('\n'));
  spawnLogged('haproxy', 'haproxy', ['-db', '-f', join(stateDir, 'config', 'haproxy.cfg')]);
  await waitForPort(p.dbWriter);
}, 120_000);

afterAll(async () => {
  await Promise.all([...children.values()].map((c) => stopProcess(c, 5000)));
});

describe('db failover controller on real MariaDB', () => {
  const sentences: string[] = [];
  const controller = createDbFailoverController({ definition, paths, secrets: { replUser: repl.user, replPassword: repl.password, adminUser: admin.user, adminPassword: admin.password }, log: (s) => sentences.push(s) });
  const tickUntilQuiet = async (max = 20) => {
    for (let i = 0; i < max; i++) if ((await controller.tick()) === null) return;
    throw new Error(`controller never settled: ${sentences.slice(-3).join(' | ')}`);
  };
  /**
   * Writes through the writer endpoint (one connection, reconnecting on error: a small closed loop is enough here)
   * while the controller ticks as the supervisor runs it; `end()` stops both.
   */
  function writesWhileTicking(prefix: string, on: { ok?: (startedAt: number) => void; fail?: () => void } = {}) {
    const acked: string[] = [];
    const failed: string[] = [];
    let stop = false;
    const writer = (async () => {
      let c: mysql.Connection | null = null;
      for (let i = 0; !stop; i++) {
        const id = `${prefix}${i}`;
        const startedAt = Date.now();
        try {
          c ??= await mysql.createConnection({ host: '127.0.0.1', port: definition.local.ports.dbWriter, user: 'root', password: '', connectTimeout: 1000 });
          await c.query('INSERT INTO ledger.writes (id) VALUES (?)', [id]);
          acked.push(id);
          on.ok?.(startedAt);
        } catch {
          on.fail?.();
          failed.push(id);
          c?.destroy();
          c = null;
          await sleep(20);
        }
      }
      c?.destroy();
    })();
    const loop = (async () => {
      while (!stop) {
        await controller.tick();
        await sleep(250);
      }
    })();
    return { acked, failed, end: async () => { stop = true; await Promise.all([writer, loop]); } };
  }

  it('leaves a healthy cluster alone, with semi-sync on and not degraded to async', async () => {
    await tickUntilQuiet();
    expect(await controller.tick()).toBeNull();
    const st = await q(dbA, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')");
    expect(Object.fromEntries(st.map((r) => [r.Variable_name, r.Value]))).toEqual({ Rpl_semi_sync_master_status: 'ON', Rpl_semi_sync_master_clients: '2' });
  });

  it('promotes a replica when the primary dies under writes, loses nothing acknowledged, and rejoins the old primary', async () => {
    let killedAt = 0;
    // Writes "resume" only with a write that started after one failed post-kill: an INSERT already
    // answered by the old primary can resolve just after the kill and must not count.
    let firstFailAfterKill = 0;
    let firstOkAfterKill = 0;
    const { acked, failed, end } = writesWhileTicking('w', {
      ok: (startedAt) => { if (firstFailAfterKill && startedAt > firstFailAfterKill && !firstOkAfterKill) firstOkAfterKill = Date.now(); },
      fail: () => { if (killedAt && !firstFailAfterKill) firstFailAfterKill = Date.now(); },
    });
    await sleep(1500);
    expect(acked.length).toBeGreaterThan(20);
    process.kill(children.get('db-a')!.pid!, 'SIGKILL');
    killedAt = Date.now();
    const deadline = Date.now() + 10_000;
    while (!firstOkAfterKill && Date.now() < deadline) await sleep(50);
    await sleep(1000);
    await end();

    const resumeMs = firstOkAfterKill - killedAt;
    expect(firstOkAfterKill, `writes never resumed: ${sentences.join(' | ')}`).toBeGreaterThan(0);
    expect(resumeMs).toBeLessThanOrEqual(3000);
    const promotion = sentences.find((s) => s.startsWith('promoted '));
    expect(promotion !== undefined, `no promotion said: ${sentences.join(' | ')}`).toBe(true);
    // Confirmed from both paths: its socket refuses, and the writer endpoint gets no answer from it.
    expect(promotion).toMatch(/^promoted db-[bc]: primary db-a unreachable for 1\.\d s \(ECONNREFUSED; writer endpoint: connection closed without an answer\), db-[bc] has the most advanced GTID 0-1-\d+/);
    const topology = readTopology(paths)!;
    expect(topology.primary).toMatch(/^db-[bc]$/);
    const newPrimary = nodes.find((n) => n.name === topology.primary)!;
    const other = nodes.find((n) => n !== newPrimary && n !== dbA)!;

    const present = new Set((await q(newPrimary, 'SELECT id FROM ledger.writes')).map((r) => String(r.id)));
    const lost = acked.filter((id) => !present.has(id));
    expect(lost).toEqual([]);
    expect((await q(newPrimary, 'SELECT @@global.read_only AS ro'))[0]!.ro).toBe(0);
    const semi = await q(newPrimary, 'SELECT @@global.rpl_semi_sync_master_enabled AS e, @@global.rpl_semi_sync_master_wait_no_slave AS w, @@global.rpl_semi_sync_master_wait_point AS p');
    expect(semi[0]).toEqual({ e: 1, w: 0, p: 'AFTER_SYNC' });
    const otherStatus = (await q(other, 'SHOW SLAVE STATUS'))[0]!;
    expect(Number(otherStatus.Master_Port)).toBe(newPrimary.port);
    const writerState = await haproxyCommand(haproxySocket, ['show stat']);
    expect(writerState).toMatch(new RegExp(`be_db_writer,db-a,.*MAINT`));

    // The old primary restarts fenced (read_only=ON from its config) and rejoins as a replica.
    await startNode(dbA);
    for (let i = 0; i < 40 && !sentences.some((s) => s.startsWith('db-a now replicates from')); i++) {
      await controller.tick();
      await sleep(100);
    }
    expect(sentences).toContain(`db-a now replicates from ${newPrimary.name} (GTID slave_pos): it had no replication configured`);
    await tickUntilQuiet();
    const rejoined = (await q(dbA, 'SHOW SLAVE STATUS'))[0]!;
    expect({ io: rejoined.Slave_IO_Running, sql: rejoined.Slave_SQL_Running, err: rejoined.Last_SQL_Error }).toEqual({ io: 'Yes', sql: 'Yes', err: '' });
    const target = String((await q(newPrimary, 'SELECT @@global.gtid_current_pos AS g'))[0]!.g);
    expect(Number((await q(dbA, `SELECT MASTER_GTID_WAIT('${target}', 10) AS w`))[0]!.w)).toBe(0);
    const aRows = Number((await q(dbA, 'SELECT COUNT(*) AS n FROM ledger.writes'))[0]!.n);
    expect(aRows).toBe(present.size);
    const st = await q(newPrimary, "SHOW GLOBAL STATUS WHERE Variable_name = 'Rpl_semi_sync_master_clients'");
    expect(Number(st[0]!.Value)).toBe(2);
    console.log(`[db-failover] writes resumed ${resumeMs} ms after SIGKILL; ${acked.length} acknowledged, ${failed.length} failed, 0 lost\n  ${sentences.join('\n  ')}`);
  }, 60_000);

  it('rewinds an old primary that holds a transaction no replica received, and rejoins it', async () => {
    await tickUntilQuiet();
    const t0 = readTopology(paths)!;
    const oldPrimary = nodes.find((n) => n.name === t0.primary)!;
    const replicas = nodes.filter((n) => n !== oldPrimary);
    // The replicas stop receiving; a commit on the primary then completes without any ACK (semi-sync has no
    // client and wait_no_slave=OFF): a transaction only the old primary holds.
    for (const r of replicas) await q(r, 'STOP SLAVE IO_THREAD');
    await q(oldPrimary, "INSERT INTO ledger.writes (id) VALUES ('errant-1')");
    process.kill(children.get(oldPrimary.name)!.pid!, 'SIGKILL');
    for (const r of replicas) await q(r, 'START SLAVE IO_THREAD');
    const deadline = Date.now() + 10_000;
    while (readTopology(paths)!.primary === oldPrimary.name && Date.now() < deadline) {
      await controller.tick();
      await sleep(200);
    }
    const newPrimary = nodes.find((n) => n.name === readTopology(paths)!.primary)!;
    expect(newPrimary).not.toBe(oldPrimary);
    // Restarted as a plain master (no semi-sync-slave crash recovery), it keeps the transaction: errant.
    await startNode(oldPrimary, ['--init-rpl-role=MASTER']);
    for (let i = 0; i < 50 && !sentences.some((s) => s.startsWith(`rewound ${oldPrimary.name}`)); i++) {
      await controller.tick();
      await sleep(100);
    }
    expect(sentences.find((s) => s.startsWith(`rewound ${oldPrimary.name}`)), sentences.slice(-4).join(' | ')).toMatch(
      new RegExp(`^rewound ${oldPrimary.name}: it held transactions no replica had acknowledged \\(0-${oldPrimary.serverId}-\\d+, after 0-${oldPrimary.serverId}-\\d+, never received by ${newPrimary.name}\\)`),
    );
    await tickUntilQuiet();
    const st = (await q(oldPrimary, 'SHOW SLAVE STATUS'))[0]!;
    expect({ io: st.Slave_IO_Running, sql: st.Slave_SQL_Running, err: st.Last_SQL_Error, port: Number(st.Master_Port) }).toEqual({ io: 'Yes', sql: 'Yes', err: '', port: newPrimary.port });
    await q(newPrimary, "INSERT INTO ledger.writes (id) VALUES ('after-rewind')");
    const target = String((await q(newPrimary, 'SELECT @@global.gtid_current_pos AS g'))[0]!.g);
    expect(Number((await q(oldPrimary, `SELECT MASTER_GTID_WAIT('${target}', 10) AS w`))[0]!.w)).toBe(0);
    const ids = async (n: DbNode) => (await q(n, 'SELECT id FROM ledger.writes ORDER BY id')).map((r) => String(r.id));
    const onNew = await ids(newPrimary);
    expect(onNew).not.toContain('errant-1');
    // ... but it was kept: saved to errant/ before the flashback, readable and replayable
    const saved = readdirSync(paths.errant).filter((f) => f.startsWith(`${oldPrimary.name}-`));
    expect(saved).toHaveLength(1);
    expect(readFileSync(join(paths.errant, saved[0]!), 'utf8')).toMatch(/INSERT INTO `ledger`\.`writes`[\s\S]*'errant-1'/);
    expect(onNew).toContain('after-rewind');
    expect(await ids(oldPrimary)).toEqual(onNew);
    console.log(`[db-failover] ${sentences.slice(-3).join('\n  ')}`);
  }, 60_000);

  it('finishes a promotion a supervisor crash cut half-way: a new controller reads the open journal entry and converges', async () => {
    await tickUntilQuiet();
    const t0 = readTopology(paths)!;
    const oldPrimary = nodes.find((n) => n.name === t0.primary)!;
    const [r1, r2] = t0.replicas.map((name) => nodes.find((n) => n.name === name)!) as [DbNode, DbNode];
    const acked: string[] = [];
    const c = await mysql.createConnection({ host: '127.0.0.1', port: definition.local.ports.dbWriter, user: 'root', password: '' });
    for (let i = 0; i < 20; i++) {
      await c.query('INSERT INTO ledger.writes (id) VALUES (?)', [`half-${i}`]);
      acked.push(`half-${i}`);
    }
    c.destroy();
    // The crashed supervisor's controller had opened its entry, fenced the primary at the writer endpoint
    // and promoted r1 (writable, semi-sync master), then died: no topology written, writer endpoint not
    // switched, r2 not repointed.
    const journal = controllerJournal(paths.actionJournal, 'db-failover');
    const entry = journal.open('failover', { sentence: `promoted ${r1.name}: (cut half-way by the test)` });
    process.kill(children.get(oldPrimary.name)!.pid!, 'SIGKILL');
    await haproxyCommand(haproxySocket, [`set server be_db_writer/${oldPrimary.name} state maint`]);
    await q(r1, 'STOP SLAVE');
    for (const sql of primarySql(5000)) await q(r1, sql);
    expect(openEntries(paths.actionJournal).map((e) => e.id)).toEqual([entry]);

    // A new supervisor's controllers: the entry goes to db-failover's resume() until its ticks converge.
    const logs: string[] = [];
    const stop = startControllers({
      definition, stateDir, paths, secrets: { ...loadOrCreateSecrets(paths), replUser: repl.user, replPassword: repl.password, adminUser: admin.user, adminPassword: admin.password }, log: (l) => logs.push(l),
      processes: () => [], start: async () => 0, stop: async () => '', forget: () => undefined, specFor: () => undefined,
    }, { interrupted: openEntries(paths.actionJournal), intervalMs: 100, only: ['db-failover'] });
    const deadline = Date.now() + 20_000;
    while (openEntries(paths.actionJournal).some((e) => e.id === entry) && Date.now() < deadline) await sleep(100);
    await stop();
    expect(openEntries(paths.actionJournal), logs.join('\n')).toEqual([]);
    expect(logs.find((l) => l.startsWith(`db-failover: interrupted failover`)), logs.join('\n')).toMatch(/finished by the next ticks: primary db-[abc] behind the writer endpoint/);

    // Converged: one writable node, the topology's primary, behind the writer endpoint; the other replica follows it; nothing acknowledged lost.
    const t1 = readTopology(paths)!;
    const primary = nodes.find((n) => n.name === t1.primary)!;
    expect(primary).not.toBe(oldPrimary);
    const follower = [r1, r2].find((n) => n !== primary)!;
    for (const n of [r1, r2]) expect((await q(n, 'SELECT @@global.read_only AS ro'))[0]!.ro).toBe(n === primary ? 0 : 1);
    expect(Number((await q(follower, 'SHOW SLAVE STATUS'))[0]!.Master_Port)).toBe(primary.port);
    const writer = await haproxyServers(haproxySocket, 'be_db_writer');
    expect(writer.filter((s) => s.up && !s.maint).map((s) => s.name)).toEqual([primary.name]);
    const present = new Set((await q(primary, 'SELECT id FROM ledger.writes')).map((r) => String(r.id)));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    console.log(`[db-failover] half-done promotion of ${r1.name} resumed:\n  ${logs.join('\n  ')}`);
    await startNode(oldPrimary);
  }, 60_000);
  it('does not promote on a stall shorter than stallFailoverAfterMs; a longer one promotes; nothing acknowledged is lost', async () => {
    await tickUntilQuiet();
    const p = nodes.find((n) => n.name === readTopology(paths)!.primary)!;
    const pid = children.get(p.name)!.pid!;
    const { acked, failed, end } = writesWhileTicking('stall-');
    const from = sentences.length;
    await sleep(500);

    // 2 s frozen: twice failoverAfterMs, below stallFailoverAfterMs (3 s). Both paths see it silent; nothing is promoted.
    process.kill(pid, 'SIGSTOP');
    await sleep(2000);
    process.kill(pid, 'SIGCONT');
    await sleep(1000);
    const short = sentences.slice(from);
    expect(readTopology(paths)!.primary).toBe(p.name);
    expect(short.filter((s) => s.startsWith('promoted')), short.join(' | ')).toEqual([]);
    expect(short.find((s) => s.startsWith(`primary ${p.name} unreachable`)), short.join(' | ')).toMatch(/ETIMEDOUT|TIMEOUT/);
    expect(short.find((s) => s.startsWith(`primary ${p.name} unreachable`))).toMatch(/silent \(connected, no answer: a stall may end\); failing over if it stays so for 3\.0 s$/);
    expect(failed).toEqual([]);

    // Frozen for good: promoted once stallFailoverAfterMs has passed on both paths.
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    const deadline = Date.now() + 10_000;
    while (readTopology(paths)!.primary === p.name && Date.now() < deadline) await sleep(50);
    const promotedAfterMs = Date.now() - stoppedAt;
    process.kill(pid, 'SIGCONT');
    await sleep(1500);
    await end();
    const promotion = sentences.slice(from).find((s) => s.startsWith('promoted'));
    expect(promotion, sentences.slice(from).join(' | ')).toMatch(new RegExp(`^promoted db-[abc]: primary ${p.name} unreachable for [34]\\.\\d s \\((ETIMEDOUT|TIMEOUT): no answer in 600 ms; writer endpoint: no answer in 600 ms\\)`));
    // The threshold, plus a tick (~0.85 s while a node is silent: the 600 ms observation deadline + 250 ms), plus the
    // promotion: STOP SLAVE on the candidate waits ~2 s for its IO thread, blocked reading from the frozen primary.
    expect(promotedAfterMs).toBeGreaterThanOrEqual(3000);
    expect(promotedAfterMs).toBeLessThan(7000);

    // The resumed old primary is fenced and rejoins; every acknowledged write is on the new primary.
    await tickUntilQuiet(40);
    const primary = nodes.find((n) => n.name === readTopology(paths)!.primary)!;
    expect((await q(p, 'SELECT @@global.read_only AS ro'))[0]!.ro).toBe(1);
    expect(Number((await q(p, 'SHOW SLAVE STATUS'))[0]!.Master_Port)).toBe(primary.port);
    const present = new Set((await q(primary, "SELECT id FROM ledger.writes WHERE id LIKE 'stall-%'")).map((r) => String(r.id)));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    console.log(`[db-failover] 2 s stall: no promotion, 0 failed writes; frozen primary promoted away after ${promotedAfterMs} ms; ${acked.length} acknowledged, ${failed.length} failed, 0 lost\n  ${sentences.slice(from).join('\n  ')}`);
  }, 60_000);
  it('remembers across a controller restart that the lost primary was committing alone, and does not promote past it', async () => {
    await tickUntilQuiet(40);
    const p = nodes.find((n) => n.name === readTopology(paths)!.primary)!;
    const replicas = nodes.filter((n) => n !== p);
    // The replicas stop acknowledging: the primary commits alone (semi-sync has no client, wait_no_slave OFF).
    for (const r of replicas) await q(r, 'STOP SLAVE IO_THREAD');
    await q(p, "INSERT INTO ledger.writes (id) VALUES ('alone-1')");
    for (let i = 0; i < 8; i++) {
      await controller.tick();
      await sleep(100);
    }
    expect(JSON.parse(readFileSync(paths.dbSemiSync, 'utf8'))).toMatchObject({ node: p.name, async: true });
    // The primary dies; so does the supervisor that watched it: a new controller starts with an empty memory but the file.
    process.kill(children.get(p.name)!.pid!, 'SIGKILL');
    for (const r of replicas) await q(r, 'START SLAVE IO_THREAD');
    const said: string[] = [];
    const waitDefinition = { ...definition, database: { ...definition.database, asyncPrimaryFailover: 'wait' as const } };
    const fresh = createDbFailoverController({ definition: waitDefinition, paths, secrets: { replUser: repl.user, replPassword: repl.password, adminUser: admin.user, adminPassword: admin.password }, log: (s) => said.push(s) });
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      await fresh.tick();
      await sleep(250);
    }
    expect(readTopology(paths)!.primary).toBe(p.name);
    expect(said.find((s) => s.startsWith('not promoting')), said.join(' | ')).toMatch(
      new RegExp(`^not promoting: primary ${p.name} unreachable for \\d\\.\\d s \\(ECONNREFUSED; .*\\), committing without any replica's acknowledgement for \\d+\\.\\d s before it was lost`),
    );
    // It comes back (restarted as the primary it still is: its crash recovery keeps what it acknowledged) and is reopened.
    await startNode(p, ['--init-rpl-role=MASTER']);
    for (let i = 0; i < 40 && (await fresh.tick()) !== null; i++) await sleep(100);
    const target = String((await q(p, 'SELECT @@global.gtid_current_pos AS g'))[0]!.g);
    for (const r of replicas) expect(Number((await q(r, `SELECT MASTER_GTID_WAIT('${target}', 10) AS w`))[0]!.w)).toBe(0);
    for (const n of nodes) expect(Number((await q(n, "SELECT COUNT(*) AS n FROM ledger.writes WHERE id = 'alone-1'"))[0]!.n), n.name).toBe(1);
    // The memory clears on the first tick that sees a replica acknowledging again (the replicas reconnect as
    // semi-sync clients after the controller last had something to do: tick until it has looked).
    const clearBy = Date.now() + 10_000;
    while (Date.now() < clearBy && JSON.parse(readFileSync(paths.dbSemiSync, 'utf8')).async !== false) {
      await fresh.tick();
      await sleep(200);
    }
    expect(JSON.parse(readFileSync(paths.dbSemiSync, 'utf8'))).toMatchObject({ node: p.name, async: false });
    console.log(`[db-failover] a fresh controller read ${paths.dbSemiSync}:\n  ${said.join('\n  ')}`);
  }, 60_000);
});
