// The database failover controller's hands and eyes: the only code of the controller that opens
// connections. observe() reads every node, HAProxy and the topology file; run() executes planned steps.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createConnection as netConnect } from 'node:net';
import { dirname } from 'node:path';
import mysql from 'mysql2/promise';
import type { DbNode } from '@conduit/definition';
import type { DbTopology, NodeState, Observed, ServerAdminState } from './db-failover-decide.js';
import { READER_BACKEND, WRITER_BACKEND, type Step } from './db-failover-steps.js';

/** How the controller logs into a node as an administrator. */
export type AdminConnection = { user: string; password: string } & ({ host: string; port: number } | { socketPath: string });

export interface RunnerOptions {
  nodes: readonly DbNode[];
  topologyFile: string;
  haproxySocket: string;
  admin: (node: DbNode) => AdminConnection;
  /** Budget for observing one node; past it the node counts as unreachable. default: 600 ms */
  observeTimeoutMs?: number;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer in ${ms} ms`), { code: 'TIMEOUT' })), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });

async function connect(node: DbNode, admin: AdminConnection, timeoutMs: number) {
  return mysql.createConnection({ ...admin, connectTimeout: timeoutMs, multipleStatements: false, supportBigNumbers: true, bigNumberStrings: true });
}

type Conn = Awaited<ReturnType<typeof connect>>;

const errorText = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  return err.code && err.code !== 'TIMEOUT' ? `${err.code}` : (err.message ?? String(e));
};

/** Sends one line of commands to the HAProxy runtime API and returns its answer. */
export function haproxyCommand(socket: string, commands: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect(socket);
    let out = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`HAProxy runtime API ${socket}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    s.on('connect', () => s.write(commands.join('; ') + '\n'));
    s.on('data', (b) => (out += b.toString()));
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(out); });
  });
}

/** Admin state of each server of a backend from `show stat` (MAINT, DRAIN, or ready). */
export function parseShowStat(csv: string, backend: string): Record<string, ServerAdminState> | null {
  const lines = csv.split('\n').filter(Boolean);
  const header = lines[0]?.replace(/^# /, '').split(',');
  if (!header) return null;
  const ipx = header.indexOf('pxname');
  const isv = header.indexOf('svname');
  const ist = header.indexOf('status');
  const out: Record<string, ServerAdminState> = {};
  let found = false;
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    if (c[ipx] !== backend || c[isv] === 'BACKEND' || c[isv] === 'FRONTEND') continue;
    found = true;
    const st = c[ist] ?? '';
    out[c[isv]!] = st.startsWith('MAINT') ? 'maint' : st.startsWith('DRAIN') ? 'drain' : 'ready';
  }
  return found ? out : null;
}

export function readTopology(file: string): DbTopology | null {
  try {
    const t = JSON.parse(readFileSync(file, 'utf8')) as DbTopology;
    return typeof t.primary === 'string' && Array.isArray(t.replicas) ? t : null;
  } catch {
    return null;
  }
}

export function writeTopology(file: string, t: DbTopology): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(t, null, 2) + '\n');
  renameSync(tmp, file);
}

const yes = (v: unknown) => v === 1 || v === '1' || v === 'ON' || v === 'YES' || v === 'Yes';

export function createRunner(o: RunnerOptions) {
  const timeoutMs = o.observeTimeoutMs ?? 600;
  const byName = new Map(o.nodes.map((n) => [n.name, n]));
  const byPort = new Map(o.nodes.map((n) => [n.port, n.name]));

  async function observeNode(node: DbNode): Promise<NodeState> {
    let conn: Conn | undefined;
    const down = (e: unknown): NodeState => ({
      name: node.name, reachable: false, error: errorText(e), readOnly: true, replication: null, gtidCurrentPos: '', gtidBinlogPos: '', gtidBinlogState: '',
      semiSync: { masterEnabled: false, masterStatus: false, masterClients: 0, waitPoint: '', waitNoSlave: true, timeoutMs: 0, slaveEnabled: false },
    });
    try {
      return await withTimeout((async () => {
        conn = await connect(node, o.admin(node), timeoutMs);
        const [vars] = await conn.query(
          'SELECT @@global.read_only AS ro, @@global.gtid_current_pos AS cur, @@global.gtid_binlog_pos AS bin, ' +
            '@@global.rpl_semi_sync_master_enabled AS me, @@global.rpl_semi_sync_master_wait_point AS wp, ' +
            '@@global.rpl_semi_sync_master_wait_no_slave AS wns, @@global.gtid_binlog_state AS bst, @@global.rpl_semi_sync_master_timeout AS t, @@global.rpl_semi_sync_slave_enabled AS se',
        );
        const v = (vars as Record<string, unknown>[])[0]!;
        const [status] = await conn.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')");
        const st = Object.fromEntries((status as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]));
        const [slave] = await conn.query('SHOW SLAVE STATUS');
        const s = (slave as Record<string, unknown>[])[0];
        const lastError = s ? ([s.Last_IO_Error, s.Last_SQL_Error].filter((x) => typeof x === 'string' && x !== '').join('; ') || null) : null;
        return {
          name: node.name,
          reachable: true,
          error: null,
          readOnly: yes(v.ro),
          replication: s
            ? {
                source: byPort.get(Number(s.Master_Port)) ?? null,
                sourcePort: Number(s.Master_Port),
                ioRunning: s.Slave_IO_Running === 'Yes' ? 'Yes' : s.Slave_IO_Running === 'Connecting' ? 'Connecting' : 'No',
                sqlRunning: s.Slave_SQL_Running === 'Yes',
                lastError,
                secondsBehind: s.Seconds_Behind_Master === null || s.Seconds_Behind_Master === undefined ? null : Number(s.Seconds_Behind_Master),
                gtidIoPos: String(s.Gtid_IO_Pos ?? ''),
              }
            : null,
          gtidCurrentPos: String(v.cur ?? ''),
          gtidBinlogPos: String(v.bin ?? ''),
          gtidBinlogState: String(v.bst ?? ''),
          semiSync: {
            masterEnabled: yes(v.me),
            masterStatus: yes(st.Rpl_semi_sync_master_status),
            masterClients: Number(st.Rpl_semi_sync_master_clients ?? 0),
            waitPoint: String(v.wp ?? ''),
            waitNoSlave: yes(v.wns),
            timeoutMs: Number(v.t ?? 0),
            slaveEnabled: yes(v.se),
          },
        } satisfies NodeState;
      })(), timeoutMs, `observe ${node.name}`);
    } catch (e) {
      return down(e);
    } finally {
      // A hung server (SIGSTOP) must not hold the tick: destroy, do not wait for a polite close.
      const c = conn as Conn | undefined;
      if (c) c.destroy();
    }
  }

  async function observeHaproxy(): Promise<{ writer: Observed['writer']; reader: Observed['reader'] }> {
    try {
      const csv = await haproxyCommand(o.haproxySocket, ['show stat'], timeoutMs);
      return { writer: parseShowStat(csv, WRITER_BACKEND), reader: parseShowStat(csv, READER_BACKEND) };
    } catch {
      return { writer: null, reader: null };
    }
  }

  async function observe(now: number): Promise<Observed> {
    const [nodes, hap] = await Promise.all([Promise.all(o.nodes.map(observeNode)), observeHaproxy()]);
    return { now, topology: readTopology(o.topologyFile), nodes, ...hap };
  }

  async function sql(nodeName: string, statements: string[], stepTimeoutMs: number): Promise<unknown[]> {
    const node = byName.get(nodeName);
    if (!node) throw new Error(`no database node named ${nodeName}`);
    let conn: Conn | undefined;
    try {
      return await withTimeout((async () => {
        conn = await connect(node, o.admin(node), timeoutMs);
        const results: unknown[] = [];
        for (const s of statements) {
          try {
            const [r] = await conn.query(s);
            results.push(r);
          } catch (e) {
            throw new Error(`${nodeName}: \`${s.replace(/MASTER_PASSWORD = '[^']*'/, "MASTER_PASSWORD = '…'")}\` failed: ${(e as Error).message}`);
          }
        }
        return results;
      })(), stepTimeoutMs, `${nodeName}`);
    } finally {
      const c = conn as Conn | undefined;
      if (c) c.destroy();
    }
  }

  /** Command-line login options of the mariadb tools for a node. */
  const cliLogin = (node: DbNode): string[] => {
    const a = o.admin(node);
    return [
      ...('socketPath' in a ? [`--socket=${a.socketPath}`] : [`--host=${a.host}`, `--port=${a.port}`, '--protocol=TCP']),
      `--user=${a.user}`,
      ...(a.password ? [`--password=${a.password}`] : []),
    ];
  };

  /**
   * Undoes a node's transactions after startGtid: mariadb-binlog --flashback reads its binlog (row events)
   * and writes the inverse events, which the mariadb client applies with the binlog off.
   */
  async function flashback(nodeName: string, startGtid: string): Promise<void> {
    const node = byName.get(nodeName);
    if (!node) throw new Error(`no database node named ${nodeName}`);
    const [logs] = (await sql(nodeName, ['SHOW BINARY LOGS'], 3000)) as { Log_name: string }[][];
    const first = logs?.[0]?.Log_name;
    if (!first) throw new Error(`${nodeName} has no binlog to flash back`);
    await new Promise<void>((resolve, reject) => {
      const dump = spawn('mariadb-binlog', ['--read-from-remote-server', ...cliLogin(node), '--flashback', `--start-position=${startGtid}`, '--to-last-log', first], { stdio: ['ignore', 'pipe', 'pipe'] });
      const apply = spawn('mariadb', [...cliLogin(node), '--init-command=SET SESSION sql_log_bin = 0'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let errors = '';
      dump.stderr.on('data', (b) => (errors += b.toString()));
      apply.stderr.on('data', (b) => (errors += b.toString()));
      dump.stdout.pipe(apply.stdin);
      const timer = setTimeout(() => { dump.kill('SIGKILL'); apply.kill('SIGKILL'); }, 20_000);
      let dumpCode: number | null = null;
      dump.on('close', (c) => (dumpCode = c));
      dump.on('error', reject);
      apply.on('error', reject);
      apply.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0 && (dumpCode === 0 || dumpCode === null)) resolve();
        else reject(new Error(`flashback of ${nodeName} from ${startGtid} failed (mariadb-binlog ${dumpCode}, mariadb ${code}): ${errors.trim().split('\n').slice(-2).join(' ')}`));
      });
    });
  }

  /** Executes steps in order; a failing step that is not best-effort stops the plan and throws. */
  async function run(steps: Step[]): Promise<void> {
    for (const step of steps) {
      try {
        if (step.kind === 'sql') await sql(step.node, step.sql, 3000);
        else if (step.kind === 'gtid-wait') {
          const [r] = (await sql(step.node, [`SELECT MASTER_GTID_WAIT(${mysql.escape(step.gtid)}, ${step.timeoutMs / 1000}) AS w`], step.timeoutMs + 2000)) as { w: number | string }[][];
          if (Number(r?.[0]?.w) !== 0) throw new Error(`${step.node} did not apply its relay log up to ${step.gtid} within ${step.timeoutMs} ms`);
        } else if (step.kind === 'haproxy') {
          const out = await haproxyCommand(o.haproxySocket, step.commands);
          const problem = out.split('\n').find((l) => /No such|Unknown|not found|Require|denied/i.test(l));
          if (problem) throw new Error(`HAProxy refused \`${step.commands.join('; ')}\`: ${problem.trim()}`);
        } else if (step.kind === 'flashback') await flashback(step.node, step.startGtid);
        else writeTopology(o.topologyFile, step.topology);
      } catch (e) {
        if (!('bestEffort' in step) || !step.bestEffort) throw e;
      }
    }
  }

  return { observe, run };
}
