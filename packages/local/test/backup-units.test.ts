// The backup pieces that need no server: frame encryption, the binlog text cut, restore planning,
// the SQL a restored region starts with, and the specs of the object store and the backup agent.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import {
  DecryptStream, EncryptStream, keyId, loadOrCreateBackupKey, planRestore, parseTarget, parseGtid, seqOf, sliceTransactions, splitTransactions,
  regionSpecs, portClaims, statePaths, backupPaths, restoredGtidSteps, purgeTarget, gtidListSeq, verifyDue, backupVerifyLine, inHistory, forkArchive,
  type FullManifest, type SegmentMeta,
} from '../src/index.js';
import { expiredFulls } from '../src/backup/catalog.js';
import { parseSize, volumeSeedBatches, BYTES_PER_ARTICLE } from '../src/specs/volume.js';
import fixture from './fixtures/backup.config.ts';

const tmp = mkdtempSync(join(tmpdir(), 'backup-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function through(input: Buffer, ...streams: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([input]), ...(streams as [NodeJS.ReadWriteStream]), new Writable({ write(c, _e, cb) { out.push(c as Buffer); cb(); } }));
  return Buffer.concat(out);
}

describe('AES-256-GCM frames', () => {
  const key = randomBytes(32);
  const data = randomBytes(3 * (1 << 20) + 12345); // three full frames and a partial last one

  it('round-trips a multi-frame stream', async () => {
    const enc = await through(data, new EncryptStream(key));
    expect(enc.length).toBeGreaterThan(data.length);
    expect((await through(enc, new DecryptStream(key, 'obj'))).equals(data)).toBe(true);
  });

  it('refuses a flipped byte, a wrong key, a truncated stream and a dropped frame, naming the object', async () => {
    const enc = await through(data, new EncryptStream(key));
    const flipped = Buffer.from(enc);
    flipped.writeUInt8(flipped.readUInt8(2 * (1 << 20)) ^ 1, 2 * (1 << 20));
    await expect(through(flipped, new DecryptStream(key, 'full/x/data'))).rejects.toThrow(/full\/x\/data: frame 1 fails authentication/);
    await expect(through(enc, new DecryptStream(randomBytes(32), 'k'))).rejects.toThrow(/frame 0 fails authentication \(corrupted object or wrong key\)/);
    const frame = 4 + (1 << 20) + 16;
    await expect(through(enc.subarray(0, 12 + 2 * frame), new DecryptStream(key, 't'))).rejects.toThrow(/truncated \(no last frame after 2 frames\)/);
    const dropped = Buffer.concat([enc.subarray(0, 12 + frame), enc.subarray(12 + 2 * frame)]);
    await expect(through(dropped, new DecryptStream(key, 'd'))).rejects.toThrow(/frame 1 fails authentication/);
    await expect(through(Buffer.from('not a backup at all'), new DecryptStream(key, 'h'))).rejects.toThrow(/bad header/);
  });

  it('keeps one key per definition name in the key store (mode 600) and names it by id', () => {
    const k1 = loadOrCreateBackupKey(join(tmp, 'keys'), 'a');
    expect(loadOrCreateBackupKey(join(tmp, 'keys'), 'a').equals(k1)).toBe(true);
    expect(loadOrCreateBackupKey(join(tmp, 'keys'), 'b').equals(k1)).toBe(false);
    expect(keyId(k1)).toMatch(/^[0-9a-f]{16}$/);
  });
});

const binlogText = (txs: Array<[seq: number, time: string]>) => [
  '/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;', 'DELIMITER /*!*/;', '# at 4',
  '#261129 18:31:35 server id 1  end_log_pos 256 CRC32 0x1 \tStart: binlog v 4',
  ...txs.flatMap(([seq, time], i) => [
    `# at ${100 + i}`, `#261129 ${time} server id 1  end_log_pos 9 CRC32 0x2 \tGTID 0-1-${seq} trans`,
    `/*M!100001 SET @@session.gtid_seq_no=${seq}*//*!*/;`, 'START TRANSACTION', '/*!*/;', `INSERT INTO t VALUES (${seq})/*!*/;`, 'COMMIT/*!*/;',
  ]),
  'DELIMITER ;', '# End of log file', 'ROLLBACK /* added by mysqlbinlog */;',
].join('\n');

describe('binlog text', () => {
  const text = binlogText([[4, '18:32:10'], [5, '18:32:11'], [6, ' 9:05:00'.padStart(8)], [7, '18:32:13']]);

  it('splits transactions at their GTID events, with UTC times', () => {
    const b = splitTransactions(text);
    expect(b.transactions.map((t) => t.gtid.seq)).toEqual([4, 5, 6, 7]);
    expect(new Date(b.transactions[0]!.at).toISOString()).toBe('2026-11-29T18:32:10.000Z');
    expect(b.header).toContain('Start: binlog v 4');
    expect(b.transactions[0]!.text.startsWith('# at 100')).toBe(true);
  });

  it('keeps the transactions after the backup and up to a time or a seq, closing the delimiter when cut', () => {
    const b = splitTransactions(binlogText([[4, '18:32:10'], [5, '18:32:11'], [6, '18:32:12'], [7, '18:32:13']]));
    const byTime = sliceTransactions(b, { afterSeq: 4, untilMs: Date.parse('2026-11-29T18:32:12Z') });
    expect(byTime.kept.map((t) => t.gtid.seq)).toEqual([5, 6]);
    expect(byTime.stopped).toBe(true);
    expect(byTime.sql).toContain('VALUES (6)');
    expect(byTime.sql).not.toContain('VALUES (7)');
    expect(byTime.sql.trimEnd().endsWith('DELIMITER ;')).toBe(true);
    const bySeq = sliceTransactions(b, { afterSeq: 0, untilSeq: 5 });
    expect(bySeq.kept.map((t) => t.gtid.seq)).toEqual([4, 5]);
    const all = sliceTransactions(b, { afterSeq: 5 });
    expect(all.kept.map((t) => t.gtid.seq)).toEqual([6, 7]);
    expect(all.sql).toContain('ROLLBACK /* added by mysqlbinlog */');
    expect(sliceTransactions(b, { afterSeq: 7 }).sql).toBe('');
  });

  it('reads GTID positions of one domain and refuses two', () => {
    expect(parseGtid('0-1-120')).toEqual({ domain: 0, server: 1, seq: 120 });
    expect(parseGtid('')).toBeNull();
    expect(seqOf('0-2-7')).toBe(7);
    expect(() => parseGtid('0-1-5,1-1-3')).toThrow(/2 domains/);
    expect(() => parseGtid('zero')).toThrow(/not a GTID/);
  });
});

const full = (id: string, gtid: string, finishedAt: string): FullManifest => ({
  kind: 'full', id, definition: 'x', region: 'eu-west-1', release: null, source: 'db-b', gtid, startedAt: finishedAt, finishedAt,
  streamBytes: 1, object: { key: `full/${id}/data.mbs.zst.enc`, bytes: 1, sha256: 'a' }, keyId: 'k', format: 'mbstream+zstd+aes-256-gcm-frames/1',
});
const seg = (from: number, to: number, firstAt: string, lastAt = firstAt): SegmentMeta => ({
  kind: 'binlog', from: from ? `0-1-${from}` : '', to: `0-1-${to}`, firstAt, lastAt, transactions: to - from, source: 'db-a', archivedAt: lastAt,
  object: { key: `binlog/${from}-${to}.sql.zst.enc`, bytes: 1, sha256: 'b' }, keyId: 'k',
});

describe('binlog expiry (only what the archive holds)', () => {
  it('purges up to the newest file that starts at or below the safe position, never the only file', () => {
    const files = [{ name: 'binlog.000001', startSeq: 0 }, { name: 'binlog.000002', startSeq: 40 }, { name: 'binlog.000003', startSeq: 90 }];
    // Archived up to 39: file 1 holds 1..40, not all archived: nothing.
    expect(purgeTarget(files, 39)).toBeNull();
    // Up to 40: file 1 is entirely archived: purge before file 2.
    expect(purgeTarget(files, 40)).toBe('binlog.000002');
    expect(purgeTarget(files, 89)).toBe('binlog.000002');
    expect(purgeTarget(files, 1_000)).toBe('binlog.000003');
    expect(purgeTarget([{ name: 'binlog.000001', startSeq: 0 }], 1_000)).toBeNull();
    expect(gtidListSeq('[0-1-40,0-2-57]')).toBe(57);
    expect(gtidListSeq('[]')).toBe(0);
    expect(gtidListSeq('0-1-12')).toBe(12);
  });
});

describe('restore planning', () => {
  const fulls = [full('f1', '0-1-10', '2026-11-29T10:00:00Z'), full('f2', '0-1-20', '2026-11-29T11:00:00Z')];
  const segs = [seg(0, 12, '2026-11-29T09:00:00Z'), seg(12, 21, '2026-11-29T10:30:00Z', '2026-11-29T11:00:01Z'), seg(21, 25, '2026-11-29T11:10:00Z'), seg(25, 30, '2026-11-29T11:20:00Z')];

  it('latest: the newest full backup and the chain after it', () => {
    const p = planRestore(fulls, segs, { kind: 'latest' });
    expect(p.full.id).toBe('f2');
    expect(p.segments.map((s) => s.to)).toEqual(['0-1-21', '0-1-25', '0-1-30']);
    expect(p.afterSeq).toBe(20);
    expect(p.summary).toContain('full backup f2');
  });

  it('a time: the newest full backup finished before it, segments up to it', () => {
    const p = planRestore(fulls, segs, parseTarget('2026-11-29T10:45:00.600Z'));
    expect(p.full.id).toBe('f1');
    expect(p.untilMs).toBe(Date.parse('2026-11-29T10:45:00Z'));
    expect(p.segments.map((s) => s.to)).toEqual(['0-1-12', '0-1-21']);
  });

  it('a GTID, and one not archived yet', () => {
    expect(planRestore(fulls, segs, parseTarget('0-1-22')).segments.map((s) => s.to)).toEqual(['0-1-21', '0-1-25']);
    expect(() => planRestore(fulls, segs, parseTarget('0-1-31'))).toThrow(/not archived yet: the archive ends at seq 30/);
  });

  it('a gap in the archive stops the plan with the keys around it', () => {
    expect(() => planRestore(fulls, segs.filter((s) => s.to !== '0-1-25'), { kind: 'latest' })).toThrow(/gap: nothing holds the transactions after seq 21 \(next: binlog\/25-30\.sql\.zst\.enc/);
  });

  it('no backup, or none early enough', () => {
    expect(() => planRestore([], segs, { kind: 'latest' })).toThrow(/no full backup in the bucket/);
    expect(() => planRestore(fulls, segs, parseTarget('2026-11-29T09:00:00Z'))).toThrow(/no full backup finished at or before the target/);
  });

  it('parses targets and refuses nonsense in one line', () => {
    expect(parseTarget('latest')).toEqual({ kind: 'latest' });
    expect(() => parseTarget('yesterday')).toThrow(/--to "yesterday" is not "latest", an ISO time/);
  });

  it('retention keeps the newest full backup however old', () => {
    const now = Date.parse('2026-12-30T00:00:00Z');
    expect(expiredFulls(fulls, 7, now).map((f) => f.id)).toEqual(['f1']);
    expect(expiredFulls(fulls, 60, now)).toEqual([]);
  });
});

describe('the archive after a failover that lost archived transactions', () => {
  const seg = (from: string, to: string) => ({ kind: 'binlog', from, to, firstAt: '', lastAt: '', transactions: 1, source: 'db-a', archivedAt: '', object: { key: `binlog/${from}-${to}.sql.zst.enc`, bytes: 1, sha256: '' }, keyId: 'k' }) as SegmentMeta;
  const segments = [seg('', '0-1-90'), seg('0-1-90', '0-1-95'), seg('0-1-95', '0-1-100'), seg('0-1-100', '0-1-102')];

  it('a GTID is in a server\'s history when its binlog state holds that domain and server at that seq or later', () => {
    expect(inHistory('0-1-98', '0-1-98,0-2-101')).toBe(true);
    expect(inHistory('0-1-97', '0-1-98,0-2-101')).toBe(true);
    expect(inHistory('0-1-99', '0-1-98,0-2-101')).toBe(false);
    expect(inHistory('0-2-99', '0-1-120')).toBe(false);
  });

  it('keeps the segments whose end the new primary holds and sets aside the rest (never replayed), continuing after the last kept end', () => {
    // db-b was promoted at 0-1-98: the old primary's 99..102 were archived but no replica had them.
    const fork = forkArchive(segments, '0-1-98,0-2-103');
    expect(fork.keep.map((s) => s.to)).toEqual(['0-1-90', '0-1-95']);
    expect(fork.discard.map((s) => s.to)).toEqual(['0-1-100', '0-1-102']);
    expect(fork.last).toBe('0-1-95');
    expect(forkArchive(segments, '0-1-102,0-2-110')).toMatchObject({ discard: [], last: '0-1-102' });
    expect(forkArchive(segments, '0-2-5')).toMatchObject({ keep: [], last: '' });
  });
});

describe('the verify schedule (backup.verifyEveryHours)', () => {
  const h = 3_600_000;
  const t0 = Date.parse('2026-11-29T00:00:00Z');
  it('counts from the last verify, or from the oldest full backup before any; nothing before a backup', () => {
    expect(verifyDue(null, null, 24, t0)).toBe(false);
    expect(verifyDue(null, new Date(t0).toISOString(), 24, t0 + 23 * h)).toBe(false);
    expect(verifyDue(null, new Date(t0).toISOString(), 24, t0 + 24 * h)).toBe(true);
    expect(verifyDue({ at: new Date(t0 + 20 * h).toISOString() }, new Date(t0).toISOString(), 24, t0 + 30 * h)).toBe(false);
    expect(verifyDue({ at: new Date(t0).toISOString() }, null, 0.005, t0 + 18_000)).toBe(true);
  });

  it('says in one line when, which backup, OK or why not, and when the next is due or how late it is', () => {
    const last = { at: '2026-11-29T20:00:00.000Z', ok: false, backup: 'B1', gtid: '0-1-9', source: 'db-b', trigger: 'schedule' as const, sentence: 'verify failed: full/B1/data.mbs.zst.enc: corrupted' };
    expect(backupVerifyLine({ last, ageSeconds: 600, everyHours: 24, maxAgeSeconds: 90_000, overdue: false }))
      .toBe('backup verify: FAILED at 2026-11-29T20:00:00.000Z (schedule), backup B1: verify failed: full/B1/data.mbs.zst.enc: corrupted; next due in 23.8 h');
    expect(backupVerifyLine({ last: { ...last, ok: true, sentence: 'fine' }, ageSeconds: 95_000, everyHours: 24, maxAgeSeconds: 90_000, overdue: true }))
      .toBe('backup verify: OVERDUE: none for 26.4 h (the alarm\'s limit is 25.0 h); OK at 2026-11-29T20:00:00.000Z (schedule), backup B1: fine');
    expect(backupVerifyLine({ last: null, ageSeconds: null, everyHours: 24, maxAgeSeconds: 90_000, overdue: false }))
      .toBe('backup verify: never ran (every 24 h, backup.verifyEveryHours; the first one runs one period after the first full backup)');
  });
});

describe('the region with backups', () => {
  const d = resolve(fixture);
  const paths = statePaths('/tmp/x');
  const backups = backupPaths(d, '/repo/packages/local/test/fixtures/backup.config.ts');

  it('keeps its buckets and key store outside the state folder', () => {
    expect(backups.root).toBe('/repo/.test-state/backup-backups');
    expect(backups.objectStore.startsWith(paths.root)).toBe(false);
  });

  it('runs s3rver on the object store port and the backup agent after the bootstrap', () => {
    const specs = regionSpecs({ definition: d, paths, secrets: {} as never, version: 'v1', tsxLoader: '/tsx', backups });
    const store = specs.find((s) => s.name === 'object-store')!;
    expect(store.args).toEqual(expect.arrayContaining(['-d', backups.objectStore, '-a', '127.0.0.1', '-p', '31600']));
    const agent = specs.find((s) => s.name === 'backup-agent')!;
    expect(agent.stage).toBe(1);
    expect(agent.args.at(-1)).toBe(paths.root);
    expect(portClaims(d).some((c) => c.port === 31600 && c.setting === 'local.ports.objectStore')).toBe(true);
    expect(regionSpecs({ definition: d, paths, secrets: {} as never, version: 'v1' }).some((s) => s.tier === 'backup')).toBe(false);
  });

  it('restored nodes continue the binlog at the dataset position: primary state, replica slave position', () => {
    const steps = restoredGtidSteps(d, { primary: 'db-a', replicas: ['db-b'], updatedAt: '' }, '0-1-42');
    expect(steps.find((s) => s.node === 'db-a')!.sql).toEqual(['RESET MASTER', "SET GLOBAL gtid_binlog_state = '0-1-42'"]);
    expect(steps.find((s) => s.node === 'db-b')!.sql).toEqual(['STOP SLAVE', 'RESET SLAVE ALL', 'RESET MASTER', "SET GLOBAL gtid_slave_pos = '0-1-42'"]);
    expect(() => restoredGtidSteps(d, { primary: 'db-a', replicas: [], updatedAt: '' }, "0'; DROP")).toThrow(/not domain-server-seq/);
  });

  it('the definition checks backup fields and the object store port like every other', () => {
    expect(d.backup.archiveEverySeconds).toBe(1);
    expect(resolve({}).backup.archiveEverySeconds).toBe(5);
    expect(resolve({}).local.backupsDir).toBe('.backups');
    expect(() => resolve({ local: { ports: { objectStore: 9090 } } })).toThrow(/local port 9090 is used by both local.ports.prometheus and local.ports.objectStore/);
  });
});

describe('tier seed --size', () => {
  it('reads sizes and refuses nonsense', () => {
    expect(parseSize('1GB')).toBe(1 << 30);
    expect(parseSize('200 mb')).toBe(200 << 20);
    expect(() => parseSize('a lot')).toThrow(/--size "a lot" is not a size: e.g. 200MB or 1GB/);
  });

  it('plans batches of 2,000 articles with their users, comments, favorites, follows and tags, then the tag counts', () => {
    const batches = volumeSeedBatches('conduit', 1 << 30, 'ab12');
    const articles = Math.ceil((1 << 30) / BYTES_PER_ARTICLE);
    expect(batches).toHaveLength(Math.ceil(articles / 2000) + 1);
    const first = batches[0]!.join('\n');
    for (const table of ['tags', 'users', 'articles', 'article_tags', 'comments', 'favorites', 'follows']) expect(first).toContain(`\`conduit\`.${table}`);
    expect(first).toContain('seq_1_to_2000');
    expect(first).toContain('RANDOM_BYTES');
    expect(batches.at(-1)!.join('\n')).toMatch(/^USE `conduit`\nUPDATE `conduit`.tags/);
    expect(() => volumeSeedBatches('conduit', 1, "x'; DROP")).toThrow(/lowercase letters and digits/);
  });
});
