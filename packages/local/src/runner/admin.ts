// Admin connections: MariaDB over a node's Unix socket as root, HAProxy's runtime API.
import { createConnection } from 'node:net';
import mysql from 'mysql2/promise';
import type { SqlStep } from '../specs/db.js';

export async function withNode<T>(socketPath: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ socketPath, user: 'root', password: '', multipleStatements: false, connectTimeout: 3_000 });
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

const transient = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN']);

/**
 * Runs a step's statements in order on one node (steps are safe to repeat, so a connection that
 * fails while the server finishes starting is retried for up to retryMs). Errors name the node and
 * the statement.
 */
export async function runSqlStep(socketPath: string, step: SqlStep, retryMs = 5_000): Promise<void> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      return await runSqlStepOnce(socketPath, step);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!transient.has(code) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function runSqlStepOnce(socketPath: string, step: SqlStep): Promise<void> {
  await withNode(socketPath, async (c) => {
    for (const sql of step.sql) {
      try {
        await c.query(sql);
      } catch (e) {
        const err = new Error(`${step.node}: ${sql.replace(/PASSWORD=?\s*'[^']*'|IDENTIFIED BY '[^']*'/g, '<password>')}: ${(e as Error).message}`);
        throw Object.assign(err, { code: (e as { code?: string }).code });
      }
    }
  });
}

export async function queryNode<T = Record<string, unknown>>(socketPath: string, sql: string): Promise<T[]> {
  return withNode(socketPath, async (c) => {
    const [rows] = await c.query(sql);
    return rows as T[];
  });
}

/** Sends one command to HAProxy's runtime API and returns its answer. */
export function haproxyCommand(socketPath: string, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path: socketPath });
    let out = '';
    s.setTimeout(timeoutMs, () => { s.destroy(); reject(new Error(`HAProxy runtime API: no answer to "${command}" in ${timeoutMs} ms`)); });
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => { out += d.toString('utf8'); });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** `show servers state` parsed into backend/server → operational and admin state. */
export async function haproxyServers(socketPath: string, backend: string): Promise<Array<{ name: string; up: boolean; maint: boolean; port: number }>> {
  const text = await haproxyCommand(socketPath, `show servers state ${backend}`);
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#') && !/^\d+$/.test(l.trim()));
  return rows.map((l) => {
    const f = l.split(' ');
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ... srv_port is field 18
    return { name: f[3]!, up: f[5] === '2', maint: (Number(f[6]) & 0x07) !== 0, port: Number(f[18]) };
  });
}

/** A Redis node's role ("master", "slave", "sentinel") from the ROLE command, over a raw socket. */
export function redisRole(port: number, timeoutMs = 1_000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | null) => { s.destroy(); resolve(v); };
    s.setTimeout(timeoutMs, () => done(null));
    s.on('connect', () => s.write('*1\r\n$4\r\nROLE\r\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const m = /^\*\d+\r\n\$\d+\r\n([a-z]+)\r\n/.exec(buf);
      if (m) done(m[1]!);
      else if (buf.startsWith('-')) done(null);
    });
    s.on('error', () => done(null));
  });
}

/** The primary's port Sentinel reports for masterName (SENTINEL get-master-addr-by-name), or null. */
export function sentinelMasterPort(sentinelPort: number, masterName: string, timeoutMs = 1_000): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port: sentinelPort });
    let buf = '';
    const done = (v: number | null) => { s.destroy(); resolve(v); };
    s.setTimeout(timeoutMs, () => done(null));
    const args = ['SENTINEL', 'get-master-addr-by-name', masterName];
    s.on('connect', () => s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const m = /^\*2\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n(\d+)\r\n/.exec(buf);
      if (m) done(Number(m[1]));
      else if (buf.startsWith('*-1') || buf.startsWith('-')) done(null);
    });
    s.on('error', () => done(null));
  });
}
