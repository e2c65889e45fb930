// The continuous binlog archive. Each pass reads the current primary's GTID position H and uploads the
// transactions after the archive's last position L up to and including H (mariadb-binlog
// --start-position=L --stop-position=H: exclusive, inclusive), as one encrypted segment (L, H]. Positions
// are GTIDs, not files: after a failover the new primary holds the same transactions under the same
// GTIDs (log_slave_updates), so the archive continues from L on whichever node is primary, without a
// gap or a duplicate. Runs every backup.archiveEverySeconds (the RPO of a restore from the archive).
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { dbSocket } from '../paths.js';
import { readTopology } from '../state.js';
import { queryNode, spawnStreaming } from '../runner/index.js';
import { EncryptStream } from './crypto.js';
import { parseGtid, seqOf } from './binlog-text.js';
import { forkArchive, inHistory, segmentBase, type SegmentMeta } from './catalog.js';
import { ensureBuckets, getBuffer, listObjects, moveObjects, putObject, uploadStream } from './store.js';
import type { BackupEnv } from './env.js';

export interface ArchiverState {
  /** The archive's last GTID position ('' before the first segment: from the start of the binlog). */
  last: string;
  /** Where the previous pass started reading on the same server: later transactions are in this file or after. */
  server: number | null;
  file: string | null;
}

/** Reads the archive's end from the bucket (a restarted archiver continues where the bucket ends). */
export async function archiveEnd(env: BackupEnv): Promise<string> {
  await ensureBuckets(env.store);
  const metas = (await listObjects(env.store, 'binlog/')).filter((o) => o.Key?.endsWith('.json')).map((o) => o.Key!).sort();
  const lastKey = metas.at(-1);
  if (!lastKey) return '';
  return (JSON.parse((await getBuffer(env.store, lastKey)).toString('utf8')) as SegmentMeta).to;
}

export async function listSegments(env: BackupEnv): Promise<SegmentMeta[]> {
  const keys = (await listObjects(env.store, 'binlog/')).map((o) => o.Key!).filter((k) => k.endsWith('.json')).sort();
  return Promise.all(keys.map(async (k) => JSON.parse((await getBuffer(env.store, k)).toString('utf8')) as SegmentMeta));
}

/**
 * The archive's end is not in the current primary's history (it came from an old primary and no replica
 * had it, see forkArchive): the segments past the fork move to abandoned/failover-<time>/, and the
 * archive continues after the last segment the primary holds.
 */
async function followFork(env: BackupEnv, state: ArchiverState, node: string, socket: string): Promise<void> {
  const [st] = await queryNode<{ s: string }>(socket, 'SELECT @@gtid_binlog_state AS s', 3_000);
  const binlogState = String(st?.s ?? '');
  if (inHistory(state.last, binlogState)) return;
  const fork = forkArchive(await listSegments(env), binlogState);
  const id = `failover-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await moveObjects(env.store, fork.discard.flatMap((s) => [s.object.key, s.object.key.replace(/\.sql\.zst\.enc$/, '.json')]), `abandoned/${id}/`);
  env.log(`binlog archive: the primary ${node} (state ${binlogState}) never had the archive's end ${state.last}: archived from an old primary, acknowledged by no replica; moved ${fork.discard.length} segment(s) (${fork.discard[0]?.from || 'start'} → ${state.last}) to abandoned/${id}/, the archive continues after ${fork.last || '(start of the binlog)'}`);
  state.last = fork.last;
  state.file = null;
}

const GTID_EVENT = /^#(\d{2})(\d{2})(\d{2}) +(\d{1,2}):(\d{2}):(\d{2}) server id \d+ .*\tGTID (\d+-\d+-\d+)\b/;

/** One pass: returns the segment it uploaded, or null when the primary has nothing new. */
export async function archiveOnce(env: BackupEnv, state: ArchiverState): Promise<SegmentMeta | null> {
  const topo = readTopology(env.paths);
  if (!topo) throw new Error(`${env.paths.topology} is missing: is the region up?`);
  const node = env.definition.dbNodes.find((n) => n.name === topo.primary)!;
  const socket = dbSocket(env.paths, node);
  // The file list first, then the position: whatever commits after the position read is in a listed file or a later one.
  const logs = await queryNode<{ Log_name: string }>(socket, 'SHOW BINARY LOGS', 3_000);
  const [row] = await queryNode<{ pos: string; sid: string; ro: string | number }>(socket, 'SELECT @@gtid_binlog_pos AS pos, @@server_id AS sid, @@read_only AS ro', 3_000);
  if (!row || Number(row.ro) !== 0) return null; // not (yet) the writable primary: the failover controller is at work
  const sid = Number(row.sid);
  // Another server than the last pass's (a failover, or the agent's first pass): does it hold the archive's end?
  if (state.last && state.server !== sid) await followFork(env, state, node.name, socket);
  const head = row.pos;
  if (seqOf(head) <= seqOf(state.last)) return null;
  const first = state.server === sid && state.file && logs.some((l) => l.Log_name === state.file) ? state.file : logs[0]?.Log_name;
  if (!first) throw new Error(`${node.name} has no binary log`);
  const fromSeq = seqOf(state.last);
  const toSeq = seqOf(head);
  const base = segmentBase(fromSeq, toSeq);
  const dump = spawnStreaming('mariadb-binlog', [
    '--read-from-remote-server', `--socket=${socket}`, '--user=root',
    ...(state.last ? [`--start-position=${state.last}`] : []), `--stop-position=${head}`, '--to-last-log', first,
  ], { env: { TZ: 'UTC' } });
  const zstd = spawnStreaming('zstd', ['-q', '-3', '-c'], { stdin: true });
  // Reads the GTID events as they pass: the segment's first/last commit times and its last GTID.
  const tap = new PassThrough();
  let count = 0;
  let firstAt = '';
  let lastAt = '';
  let lastGtid = '';
  const lines = createInterface({ input: tap.pipe(new PassThrough()) });
  lines.on('line', (l) => {
    const m = GTID_EVENT.exec(l);
    if (!m) return;
    const at = new Date(Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))).toISOString();
    count += 1;
    if (!firstAt) firstAt = at;
    lastAt = at;
    lastGtid = m[7]!;
  });
  const closed = new Promise((r) => lines.once('close', r));
  const [, uploaded] = await Promise.all([
    pipeline(dump.stdout, tap, zstd.stdin!),
    uploadStream(env.store, `${base}.sql.zst.enc`, zstd.stdout.pipe(new EncryptStream(env.key))),
    dump.done,
    zstd.done,
    closed,
  ]).catch((e) => { dump.kill(); zstd.kill(); throw e; });
  if (seqOf(lastGtid) !== toSeq) {
    throw new Error(`binlog segment (${state.last || 'start'}, ${head}] from ${node.name} ends at "${lastGtid}", not at ${head}: not recorded, retried next pass`);
  }
  parseGtid(head); // one domain only: a second domain would make seq numbers ambiguous
  const meta: SegmentMeta = {
    kind: 'binlog', from: state.last, to: head, firstAt, lastAt, transactions: count, source: node.name,
    archivedAt: new Date().toISOString(), object: uploaded, keyId: env.keyId,
  };
  await putObject(env.store, `${base}.json`, JSON.stringify(meta, null, 2) + '\n');
  state.last = head;
  state.server = sid;
  state.file = logs.at(-1)!.Log_name;
  return meta;
}
