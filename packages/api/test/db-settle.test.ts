// A write whose COMMIT goes unanswered (the primary dies, the connection is reset) is settled by the API:
// its write mark is looked for on the writer once the old connection's thread is surely gone; present, the
// write is answered as committed (no second copy); absent, it is run again once (exactly one copy).
// The connection is cut at the COMMIT by a TCP proxy in front of the api project's MariaDB that reads the
// client's packets: before the COMMIT reaches the server, after the server answered it, or with the COMMIT
// held back and delivered later (a commit still under way on a live server while the API looks).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { FastifyInstance } from 'fastify';
import { Db, commitUnanswered, exec, sameServerRun, settleStep, type Settled } from '../src/db/pool.js';
import { json, makeApp, register } from './helpers.js';

type Cut = 'none' | 'before-commit' | 'after-commit' | 'hold-commit';
let cut: Cut = 'none';
let upstreamPort = 0;
let proxy: Server;
let proxyPort = 0;
const sockets = new Set<Socket>();
let root: mysql.Connection;

/** A COM_QUERY packet (4-byte header, command 0x03) whose text is COMMIT. */
const isCommit = (b: Buffer) => b.length >= 11 && b[4] === 0x03 && b.subarray(5, 11).toString() === 'COMMIT';

beforeAll(async () => {
  const url = new URL(inject('mysqlUrl'));
  upstreamPort = Number(url.port);
  root = await mysql.createConnection({ uri: inject('mysqlUrl') });
  await root.query('CREATE TABLE IF NOT EXISTS settle_probe (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64) NOT NULL, KEY (v))');
  proxy = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let swallowReply = false;
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', () => { if (!held) end(); });
    upstream.on('error', end).on('close', end);
    let held = false;
    client.on('data', (chunk: Buffer) => {
      if (cut !== 'none' && isCommit(chunk)) {
        const mode = cut;
        cut = 'none';
        if (mode === 'before-commit') return end(); // the server never gets it: its transaction is rolled back
        if (mode === 'after-commit') swallowReply = true; // the server commits; the client never hears of it
        if (mode === 'hold-commit') {
          // the client's side goes at once; the server's session stays open with its transaction and gets the COMMIT later
          held = true;
          client.destroy();
          setTimeout(() => upstream.write(chunk), 1_000).unref();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (swallowReply || held) return end();
      client.write(chunk);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyPort = (proxy.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  if (proxy) await new Promise((r) => proxy.close(r));
  await root?.end();
});

const viaProxy = () => `mysql://root@127.0.0.1:${proxyPort}/conduit_test`;

async function copies(v: string): Promise<number> {
  const [r] = await root.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM settle_probe WHERE v = ?', [v]);
  return Number(r[0]!.n);
}

function probeDb(retryBudgetMs = 3_000): { db: Db; settles: Settled[] } {
  const settles: Settled[] = [];
  const db = new Db({ writerUrl: viaProxy(), readerUrl: viaProxy(), poolSize: 2, retryBudgetMs, onSettle: (s) => settles.push(s) });
  return { db, settles };
}

const insertProbe = (db: Db, v: string) => db.tx(async (conn) => (await exec(conn, 'INSERT INTO settle_probe (v) VALUES (?)', [v])).insertId);

describe('the decision', () => {
  it('settles only what got no answer to its COMMIT', () => {
    expect(commitUnanswered({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })).toBe(true);
    expect(commitUnanswered({ code: 'ECONNRESET', fatal: true })).toBe(true);
    expect(commitUnanswered({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' })).toBe(true); // the statement's 5 s budget
    expect(commitUnanswered({ code: 'ER_DUP_ENTRY' })).toBe(false); // an answer: thrown as is
    expect(commitUnanswered(new Error('boom'))).toBe(false);
  });

  it('looks for the mark only on a writer, once the old thread cannot still commit', () => {
    // not the writer (demoted, not promoted yet): wait, whatever else
    expect(settleStep({ writable: false, sameServer: false, oldThreadAlive: false })).toBe('wait-for-writer');
    expect(settleStep({ writable: false, sameServer: true, oldThreadAlive: true })).toBe('wait-for-writer');
    // same server, its thread still there (maybe still committing): end it, look again
    expect(settleStep({ writable: true, sameServer: true, oldThreadAlive: true })).toBe('end-old-thread');
    // a thread with that id, on a server we cannot identify: never kill it, wait for it to go
    expect(settleStep({ writable: true, sameServer: null, oldThreadAlive: true })).toBe('wait-old-thread');
    // conclusive: the old thread is gone from this server, or this is another (promoted) server
    expect(settleStep({ writable: true, sameServer: true, oldThreadAlive: false })).toBe('check-mark');
    expect(settleStep({ writable: true, sameServer: null, oldThreadAlive: false })).toBe('check-mark');
    expect(settleStep({ writable: true, sameServer: false, oldThreadAlive: true })).toBe('check-mark');
    // one run of a server, seen twice (Uptime has whole seconds); a restart, or another server
    expect(sameServerRun({ serverId: 1, bootedAt: 1000.2 }, { serverId: 1, bootedAt: 1001.9 })).toBe(true);
    expect(sameServerRun({ serverId: 1, bootedAt: 1000 }, { serverId: 1, bootedAt: 1030 })).toBe(false);
    expect(sameServerRun({ serverId: 1, bootedAt: 1000 }, { serverId: 2, bootedAt: 1000 })).toBe(false);
  });
});

describe('a COMMIT cut on a real MariaDB', () => {
  it('answered by the server, lost on the way back: the mark is there, answered as committed, no second copy', async () => {
    const { db, settles } = probeDb();
    try {
      const v = `after-${randomBytes(6).toString('hex')}`;
      cut = 'after-commit';
      const id = await insertProbe(db, v);
      expect(cut).toBe('none'); // the cut happened
      expect(await copies(v)).toBe(1);
      const [r] = await root.query<mysql.RowDataPacket[]>('SELECT id FROM settle_probe WHERE v = ?', [v]);
      expect(id).toBe(Number(r[0]!.id)); // the settled write returns what the write returned (its row id, from the mark)
      expect(db.settled).toEqual({ committed: 1, rerun: 0, unsettled: 0 });
      expect(settles[0]).toMatchObject({ outcome: 'committed', cause: expect.any(String) });
    } finally {
      await db.close();
    }
  }, 20_000);

  it('never reached the server: the mark is absent, run again once, exactly one copy', async () => {
    const { db } = probeDb();
    try {
      const v = `before-${randomBytes(6).toString('hex')}`;
      cut = 'before-commit';
      const id = await insertProbe(db, v);
      expect(cut).toBe('none');
      expect(await copies(v)).toBe(1);
      const [r] = await root.query<mysql.RowDataPacket[]>('SELECT id FROM settle_probe WHERE v = ?', [v]);
      expect(id).toBe(Number(r[0]!.id));
      expect(db.settled).toEqual({ committed: 0, rerun: 1, unsettled: 0 });
    } finally {
      await db.close();
    }
  }, 20_000);

  it('a COMMIT still on its way to a live server while the API looks: the old thread is ended first, exactly one copy', async () => {
    const { db, settles } = probeDb();
    try {
      const v = `held-${randomBytes(6).toString('hex')}`;
      cut = 'hold-commit';
      await insertProbe(db, v);
      // The held COMMIT reaches the server 1 s after the cut. The old thread (same server, same run) was killed
      // first, so its transaction was rolled back and the write ran again: 'rerun', well before that second.
      // (Had the mark been looked for at once, the rerun's mark INSERT would have waited on the old transaction's
      // lock on the same key and met its mark once the held COMMIT landed: 'committed', still one copy.)
      expect(settles).toMatchObject([{ outcome: 'rerun' }]);
      expect(settles[0]!.ms).toBeLessThan(1_000);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await copies(v)).toBe(1);
    } finally {
      await db.close();
    }
  }, 20_000);

  it('no writer within the budget: the COMMIT error is thrown (503), counted as unsettled', async () => {
    const { db, settles } = probeDb(600);
    const saved = upstreamPort;
    try {
      const v = `gone-${randomBytes(6).toString('hex')}`;
      await db.writer.query('SELECT 1');
      cut = 'before-commit';
      upstreamPort = 1; // nothing listens: new connections through the "endpoint" fail
      const t0 = Date.now();
      await expect(insertProbe(db, v)).rejects.toMatchObject({ fatal: true });
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(db.settled).toEqual({ committed: 0, rerun: 0, unsettled: 1 });
      expect(settles[0]!.outcome).toBe('unsettled');
      upstreamPort = saved;
      expect(await copies(v)).toBe(0);
    } finally {
      upstreamPort = saved;
      await db.close();
    }
  }, 20_000);

  it('old marks are deleted, recent ones kept', async () => {
    const { db } = probeDb();
    try {
      const old = randomBytes(16);
      const recent = randomBytes(16);
      await root.query('INSERT INTO write_marks (id, at) VALUES (?, NOW() - INTERVAL 2 HOUR), (?, NOW() - INTERVAL 10 MINUTE)', [old, recent]);
      expect(await db.expireMarks()).toBeGreaterThanOrEqual(1);
      const [r] = await root.query<mysql.RowDataPacket[]>('SELECT id FROM write_marks WHERE id IN (?, ?)', [old, recent]);
      expect(r.map((x) => Buffer.from(x.id as Buffer).toString('hex'))).toEqual([recent.toString('hex')]);
    } finally {
      await db.close();
    }
  });
});

describe('through the API', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ DATABASE_WRITER_URL: viaProxy(), REDIS_URL: '', DB_POOL_SIZE: '2' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a comment POST whose COMMIT answer is lost is a 201 with the comment, stored once, counted', async () => {
    const user = await register(app, 'settle');
    const created = await app.inject({ method: 'POST', url: '/api/articles', headers: user.auth, payload: { article: { title: `settle ${randomBytes(4).toString('hex')}`, description: 'd', body: 'b' } } });
    expect(created.statusCode).toBe(201);
    const slug = json(created).article.slug as string;
    const body = `settled ${randomBytes(6).toString('hex')}`;
    cut = 'after-commit';
    const res = await app.inject({ method: 'POST', url: `/api/articles/${slug}/comments`, headers: user.auth, payload: { comment: { body } } });
    expect(cut).toBe('none');
    expect(res.statusCode).toBe(201);
    expect(json(res).comment).toMatchObject({ body, author: { username: user.username } });
    const [r] = await root.query<mysql.RowDataPacket[]>('SELECT id FROM comments WHERE body = ?', [body]);
    expect(r.map((x) => Number(x.id))).toEqual([json(res).comment.id]);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^db_writes_settled_total\{outcome="committed"[^}]*\} 1$/m);
  }, 30_000);
});
