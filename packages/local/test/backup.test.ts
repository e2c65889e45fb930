// Integration: backups of a small real region (ports 31000-31699) through the real `tier` CLI. The
// backup agent takes the first full backup from the replica and archives binlogs every second; verify
// restores into a throwaway server and compares checksums with the live primary; a corrupted object, a
// missing segment and a wrong key are refused before anything changes; the archive follows a DB failover
// without a gap or a duplicate; a restore to a chosen second brings back exactly the rows of that second;
// and after `tier destroy` (only the buckets remain) `tier restore --to latest` rebuilds the region.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { tierFor } from './tier-cli.ts';
import {
  backupEnv, backupNow, backupPaths, verifyLatest, readVerify, seedVolume, dbSocket, httpGet, isAlive, listFulls, listSegments, queryNode, readRegion, readTopology, repoRoot, restoreRegion, runSql, seqOf, statePaths, waitUntil,
} from '../src/index.js';
import fixture from './fixtures/backup.config.ts';

const config = join(repoRoot, 'packages/local/test/fixtures/backup.config.ts');
const d = resolve(fixture);
const stateDir = join(repoRoot, '.test-state/backup');
const paths = statePaths(stateDir);
const backups = backupPaths(d, config);
const tier = tierFor(config);
const env = () => backupEnv(d, stateDir, config);
const opts = () => ({ definition: d, stateDir, configFile: config, progress: () => undefined });
const node = (name: string) => d.dbNodes.find((n) => n.name === name)!;
const primarySocket = () => dbSocket(paths, node(readTopology(paths)!.primary));
const sql = (statements: string[]) => runSql(primarySocket(), 'primary', statements, { timeoutMs: 10_000 });
const probeRows = async () => (await queryNode<{ id: number }>(primarySocket(), 'SELECT id FROM conduit.backup_probe ORDER BY id')).map((r) => Number(r.id));
const primaryGtid = async () => String((await queryNode<{ p: string }>(primarySocket(), 'SELECT @@gtid_binlog_pos AS p'))[0]!.p);
const archiveReaches = async (gtid: string) => waitUntil(`archive reaching ${gtid}`, async () => {
  const segs = await listSegments(env());
  return segs.length > 0 && seqOf(segs.at(-1)!.to) >= seqOf(gtid);
}, 20_000, 200);
const objectFile = (key: string) => join(backups.objectStore, `${d.name}-backups-${d.regions.primary}`, `${key}._S3rver_object`);
const pids = () => readRegion(stateDir).processes.map((p) => `${p.name}:${p.pid}`).sort();

beforeAll(async () => {
  await tier('destroy');
  rmSync(backups.root, { recursive: true, force: true });
  const r = await tier('up');
  expect(r.code, r.stderr + r.stdout).toBe(0);
}, 240_000);

afterAll(async () => {
  const seen = readRegion(stateDir).processes.map((p) => p.pid).filter((p): p is number => p !== null);
  const r = await tier('destroy');
  expect(r.code, r.stderr).toBe(0);
  expect(seen.filter(isAlive)).toEqual([]);
  rmSync(backups.root, { recursive: true, force: true });
}, 180_000);

describe('the backup agent', () => {
  it('takes a full backup from the replica at once, encrypted and checksummed, copied to the other region', async () => {
    await waitUntil('a first full backup', async () => (await listFulls(env())).length > 0, 60_000, 500);
    const [m] = await listFulls(env());
    expect(m!.source).toMatch(/^db-b@/); // the replica, never the primary
    expect(m!.gtid).toMatch(/^0-1-\d+$/);
    expect(m!.object.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m!.keyId).toBe(env().keyId);
    expect(m!.release).toBe(readFileSync(paths.currentRelease, 'utf8').match(/"version": "([^"]+)"/)![1]);
    // Not plaintext: no InnoDB page or table name survives compression + encryption.
    expect(readFileSync(objectFile(m!.object.key)).includes(Buffer.from('backup_probe'))).toBe(false);
    const other = await env().store.client.send(new ListObjectsV2Command({ Bucket: `${d.name}-backups-${d.regions.secondary}`, Prefix: 'full/' }));
    expect(other.Contents?.map((o) => o.Key)).toContain(`full/${m!.id}/manifest.json`);
    const list = await tier('backup', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`${m!.id}  GTID ${m!.gtid}`);
  });

  it('archives new transactions within seconds, one unbroken GTID chain', async () => {
    await sql(['CREATE TABLE conduit.backup_probe (id INT PRIMARY KEY, note VARCHAR(64))', "INSERT INTO conduit.backup_probe VALUES (1, 'one'), (2, 'two')"]);
    const t0 = Date.now();
    const g = await primaryGtid();
    await archiveReaches(g);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const segs = await listSegments(env());
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.from).toBe(segs[i - 1]!.to);
    expect(segs.reduce((n, s) => n + s.transactions, 0)).toBe(seqOf(segs.at(-1)!.to));
  });
});

describe('binlog expiry', () => {
  it('purges, on every node, the binlog files the archive holds, and keeps the one it does not have yet', async () => {
    const files = async (n: string) => (await queryNode<{ Log_name: string }>(dbSocket(paths, node(n)), 'SHOW BINARY LOGS')).map((r) => r.Log_name);
    const oldest = new Map<string, string>();
    for (const n of d.dbNodes) oldest.set(n.name, (await files(n.name))[0]!);
    // Its own table: the restore tests below count backup_probe's rows. FLUSH BINARY LOGS is never replicated:
    // each node starts a new file itself, after the row reached it.
    await sql(['CREATE TABLE conduit.expiry_probe (id INT PRIMARY KEY)']);
    for (let i = 0; i < 2; i++) {
      await sql([`INSERT INTO conduit.expiry_probe VALUES (${i})`]);
      const head = await primaryGtid();
      for (const n of d.dbNodes) {
        await waitUntil(`${n.name} at ${head}`, async () => seqOf(String((await queryNode<{ p: string }>(dbSocket(paths, n), 'SELECT @@gtid_current_pos AS p'))[0]!.p)) >= seqOf(head), 10_000, 100);
        await runSql(dbSocket(paths, n), n.name, ['FLUSH BINARY LOGS'], { timeoutMs: 10_000 });
      }
    }
    await archiveReaches(await primaryGtid());
    // The agent purges once a minute (BINLOG_PURGE_EVERY_MS) after a pass that archived.
    const purged = async () => {
      for (const n of d.dbNodes) if ((await files(n.name)).includes(oldest.get(n.name)!)) return false;
      return true;
    };
    await waitUntil('the archived binlogs purged on every node', purged, 90_000, 1_000).catch(async (e: Error) => {
      const state = await Promise.all(d.dbNodes.map(async (n) => `${n.name}: ${(await files(n.name)).join(' ')}`));
      const agent = readFileSync(join(stateDir, 'logs', 'backup-agent.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`${e.message}\n${state.join('\n')}\n${agent}`);
    });
    for (const n of d.dbNodes) expect((await files(n.name)).length).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(stateDir, 'logs', 'backup-agent.log'), 'utf8')).toMatch(/binlog expiry: db-\w+ purged the binlogs before binlog\.\d+/);
  }, 150_000);
});

describe('tier seed --size', () => {
  it('generates users, articles with markdown bodies, tags, comments, favorites and follows on the primary', async () => {
    const count = async (t: string) => Number((await queryNode<{ n: string }>(primarySocket(), `SELECT COUNT(*) AS n FROM conduit.${t}`))[0]!.n);
    const before = await count('articles');
    const r = await seedVolume({ definition: d, stateDir, size: '2MB', progress: () => undefined });
    // Authors are joined to existing users: a gap in the AUTO_INCREMENT range drops a row, not the batch.
    expect(r.articles - before).toBeGreaterThan(0.8 * Math.ceil((2 << 20) / 6_500));
    expect(r.articles - before).toBeLessThanOrEqual(Math.ceil((2 << 20) / 6_500));
    expect(await count('comments')).toBeGreaterThanOrEqual(2 * (r.articles - before));
    expect(await count('favorites')).toBeGreaterThan(r.articles - before);
    expect(await count('follows')).toBeGreaterThan(0);
    expect(r.bytes).toBeGreaterThan(2 << 20);
    const [a] = await queryNode<{ body: string }>(primarySocket(), "SELECT body FROM conduit.articles WHERE slug LIKE 'gen-%' LIMIT 1");
    expect(a!.body).toMatch(/^# Article \d+\n\nSome \*\*markdown\*\*/);
    const [t] = await queryNode<{ n: string }>(primarySocket(), "SELECT COUNT(*) AS n FROM conduit.article_tags x JOIN conduit.articles a ON a.id = x.article_id WHERE a.slug LIKE 'gen-%'");
    expect(Number(t!.n)).toBe(2 * (r.articles - before)); // two tags each (by rank: tag ids have gaps)
  }, 120_000);
});

describe('tier backup now | verify', () => {
  it('now: a second full backup from the replica, at the current position', async () => {
    const m = await backupNow(opts());
    expect(m.source).toMatch(/^db-b@/);
    expect(seqOf(m.gtid)).toBeGreaterThanOrEqual(seqOf((await listFulls(env()))[0]!.gtid));
    expect((await listFulls(env())).map((f) => f.id)).toContain(m.id);
  }, 60_000);

  it('verify restores the latest backup plus binlogs into a throwaway server; every table equals a snapshot of the replica at the same GTID, writes going on', async () => {
    await runSql(primarySocket(), 'db-a', ['CREATE TABLE conduit.verify_probe (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(3) NOT NULL)']);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await runSql(primarySocket(), 'db-a', ['INSERT INTO conduit.verify_probe (at) VALUES (NOW(3))']);
        written += 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // The replica has some of the writes when the verify takes its snapshot; more follow during it.
    const replica = dbSocket(paths, node('db-b'));
    await waitUntil('probe rows on the replica', async () => Number((await queryNode<{ n: string }>(replica, 'SELECT COUNT(*) AS n FROM conduit.verify_probe'))[0]?.n) > 0, 10_000, 50);
    // In this process (the CLI's run is a child process coverage does not see); the CLI prints the same result.
    const v = await verifyLatest(opts()).finally(() => { writing = false; });
    await writer;
    expect(v.ok, v.sentence).toBe(true);
    expect(v.sentence).toMatch(/^backup \S+ \+ \d+ binlog segment\(s\) restored to GTID 0-1-\d+: \d+ tables, \d+ rows, every checksum equals db-b's at the same GTID$/);
    expect(v.source).toBe('db-b');
    expect(v.trigger).toBe('manual');
    expect(v.tables.find((t) => t.table === 'backup_probe')).toMatchObject({ rows: 2 });
    // The primary moved on during the verify: the comparison was at the snapshot's GTID, not the primary's end.
    const probe = v.tables.find((t) => t.table === 'verify_probe')!;
    expect(probe.rows).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(probe.rows);
    const list = await tier('backup', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/last verify \S+: OK/);
    const status = await tier('status');
    expect(status.stdout).toMatch(/backup-agent .*archived to 0-1-\d+ \(last commit [^)]+\); full \S+; verify OK \S+/);
    expect(status.stdout).toMatch(/^backup verify: OK at \S+ \((manual|schedule)\), backup \S+: backup .* every checksum equals db-b's at the same GTID; next due in /m);
  }, 120_000);

  it('the backup agent verifies on its schedule (backup.verifyEveryHours: 18 s here); tier status shows the result', async () => {
    const e = env();
    await waitUntil('a scheduled verify', async () => readVerify(e)?.trigger === 'schedule', 90_000, 500);
    const v = readVerify(e)!;
    expect(v.ok, v.sentence).toBe(true);
    const status = await tier('status', '--json');
    const s = JSON.parse(status.stdout) as { backupVerify: { last: { trigger: string; ok: boolean }; overdue: boolean; everyHours: number } | null };
    expect(s.backupVerify).toMatchObject({ last: { trigger: 'schedule', ok: true }, overdue: false, everyHours: 0.005 });
    const log = readFileSync(join(statePaths(stateDir).logs, 'backup-agent.log'), 'utf8');
    expect(log).toMatch(/scheduled verify OK in [\d.]+ s: backup /);
  }, 120_000);
});

describe('a restore refuses before touching anything', () => {
  it('over a live primary without --force', async () => {
    const r = await tier('restore', '--to', 'latest');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('is running with a live primary');
    expect(r.stderr).toContain('--force');
  });

  it('a corrupted object (same size): the SHA-256 and GCM checks stop it, the region runs on', async () => {
    const before = pids();
    const m = (await listFulls(env())).at(-1); // the one `--to latest` restores
    const file = objectFile(m!.object.key);
    const original = readFileSync(file);
    const bad = Buffer.from(original);
    const mid = Math.floor(bad.length / 2);
    bad.writeUInt8(bad.readUInt8(mid) ^ 0xff, mid);
    writeFileSync(file, bad);
    try {
      const r = await tier('restore', '--to', 'latest', '--force');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('restore stopped before touching the region');
      expect(r.stderr).toContain(m!.object.key);
      expect(r.stderr).toMatch(/fails authentication|does not match its manifest/);
    } finally {
      writeFileSync(file, original);
    }
    expect(pids()).toEqual(before);
    expect(await probeRows()).toEqual([1, 2]);
  }, 60_000);

  it('a missing binlog segment, and a wrong key, are named before anything is read', async () => {
    // A transaction after the newest full backup: its segment is one a restore to latest needs.
    await sql(['CREATE TABLE IF NOT EXISTS conduit.backup_marker (id INT PRIMARY KEY)', 'INSERT INTO conduit.backup_marker VALUES (1)']);
    await archiveReaches(await primaryGtid());
    const segs = await listSegments(env());
    const last = segs.at(-1)!;
    const file = objectFile(last.object.key);
    renameSync(file, `${file}.aside`);
    try {
      const r = await tier('restore', '--to', 'latest', '--force');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`restore refused, nothing was changed: ${last.object.key}: missing from s3://`);
    } finally {
      renameSync(`${file}.aside`, file);
    }
    await expect(restoreRegion({ definition: d, stateDir, configFile: config, progress: () => undefined, key: randomBytes(32), to: 'latest', force: true }))
      .rejects.toThrow(/encrypted with key [0-9a-f]{16}, the key store has key [0-9a-f]{16} .*: wrong key/);
    expect(await probeRows()).toEqual([1, 2]);
  }, 60_000);
});

describe('the archive across a DB failover', () => {
  it('continues on the new primary by GTID: no gap, no duplicate', async () => {
    await sql(["INSERT INTO conduit.backup_probe VALUES (3, 'before failover')"]);
    await archiveReaches(await primaryGtid());
    const old = readRegion(stateDir).processes.find((p) => p.name === readTopology(paths)!.primary)!;
    process.kill(old.pid!, 'SIGKILL');
    await waitUntil('a promoted replica', async () => readTopology(paths)!.primary !== old.name, 30_000, 100);
    await waitUntil('the new primary writable', async () => (await sql(["INSERT INTO conduit.backup_probe VALUES (4, 'after failover')"]).then(() => true, () => false)), 20_000, 200);
    await sql(["INSERT INTO conduit.backup_probe VALUES (5, 'after failover')"]);
    const g = await primaryGtid();
    expect(g).toMatch(/^0-2-\d+$/); // written by the promoted node (server_id 2)
    await archiveReaches(g);
    const segs = await listSegments(env());
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.from).toBe(segs[i - 1]!.to);
    expect(segs.reduce((n, s) => n + s.transactions, 0)).toBe(seqOf(g));
    expect(segs.at(-1)!.source).toBe(readTopology(paths)!.primary);
  }, 90_000);
});

describe('tier restore', () => {
  it('to a chosen second: the rows of that second, nothing after; the region serves again', async () => {
    await sql(["INSERT INTO conduit.backup_probe VALUES (6, 'kept')"]);
    // Commit times have one-second resolution: the target is a whole second after 6, before the damage.
    await new Promise((r) => setTimeout(r, 1_100));
    const target = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    await new Promise((r) => setTimeout(r, 1_100));
    await sql(['DELETE FROM conduit.backup_probe WHERE id <= 3', "INSERT INTO conduit.backup_probe VALUES (7, 'too late')"]);
    await archiveReaches(await primaryGtid());
    const lines: string[] = [];
    const r = await restoreRegion({ ...opts(), progress: (l) => lines.push(l), to: target, force: true });
    expect(r.replayed).toBeGreaterThan(0);
    expect(Date.parse(r.lastCommitAt!)).toBeLessThanOrEqual(Date.parse(target));
    expect(lines.join('\n')).toMatch(/moved \d+ backup object\(s\) after GTID 0-2-\d+ to abandoned\//);
    expect(await probeRows()).toEqual([1, 2, 3, 4, 5, 6]);
    const tags = await httpGet(`http://127.0.0.1:${d.local.ports.edge}/api/tags`);
    expect(tags.status).toBe(200);
    const status = await tier('status');
    expect(status.code, status.stdout).toBe(0);
    expect(existsSync(join(paths.data, 'db-a.pre-restore'))).toBe(true);
  }, 180_000);

  it('from nothing: after destroy only the buckets remain, restore --to latest rebuilds the region with its data', async () => {
    await sql(["INSERT INTO conduit.backup_probe VALUES (8, 'last before the disaster')"]);
    await archiveReaches(await primaryGtid());
    const destroyed = await tier('destroy');
    expect(destroyed.code).toBe(0);
    // Nothing of the region is left (a drill run by hand may have left its reports in drills/, which destroy keeps).
    expect(existsSync(paths.data) || existsSync(paths.secrets) || existsSync(paths.config), destroyed.stdout).toBe(false);
    const r = await tier('restore', '--to', 'latest');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fetch [\d.]+ s, prepare [\d.]+ s, replay [\d.]+ s, check [\d.]+ s, stop [\d.]+ s, install [\d.]+ s, region up [\d.]+ s \(rebuild [\d.]+ s, app start [\d.]+ s\)/);
    expect(await probeRows()).toEqual([1, 2, 3, 4, 5, 6, 8]);
    const users = await queryNode<{ n: string }>(primarySocket(), 'SELECT COUNT(*) AS n FROM conduit.users');
    expect(Number(users[0]!.n)).toBeGreaterThan(0);
    const tags = await httpGet(`http://127.0.0.1:${d.local.ports.edge}/api/tags`);
    expect(tags.status).toBe(200);
  }, 240_000);
});
