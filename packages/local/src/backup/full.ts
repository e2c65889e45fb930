// A full backup, streamed from a replica (never the primary): mariadb-backup --stream=mbstream | zstd |
// AES-256-GCM frames | S3 multipart upload, hashed on the way; the manifest is written last.
import { hostname } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { dbSocket, dbTmpDir } from '../paths.js';
import { currentVersion } from '../releases.js';
import { readTopology } from '../state.js';
import { queryNode, spawnStreaming } from '../runner/index.js';
import { EncryptStream } from './crypto.js';
import { backupId, fullDataKey, fullManifestKey, type FullManifest } from './catalog.js';
import { ensureBuckets, putObject, uploadStream } from './store.js';
import type { BackupEnv } from './env.js';

/** The replica to copy: the first replica of the current topology whose SQL thread runs. */
export async function backupSource(env: BackupEnv): Promise<string> {
  const topo = readTopology(env.paths);
  if (!topo) throw new Error(`${env.paths.topology} is missing: is the region up?`);
  for (const name of topo.replicas) {
    const node = env.definition.dbNodes.find((n) => n.name === name)!;
    const [st] = await queryNode<Record<string, string>>(dbSocket(env.paths, node), 'SHOW SLAVE STATUS', 2_000).catch(() => []);
    if (st?.Slave_SQL_Running === 'Yes') return name;
  }
  throw new Error(`no replicating replica to back up from (replicas: ${topo.replicas.join(', ') || 'none'}): full backups never load the primary`);
}

const GTID_LINE = /GTID of the last change '([^']*)'/;

export async function takeFullBackup(env: BackupEnv, progress: (line: string) => void = () => undefined): Promise<FullManifest> {
  const started = new Date();
  const id = backupId(started);
  const source = await backupSource(env);
  const node = env.definition.dbNodes.find((n) => n.name === source)!;
  await ensureBuckets(env.store);
  progress(`full backup ${id}: streaming from replica ${source} to s3://${env.store.bucket}/${fullDataKey(id)}`);
  const backup = spawnStreaming('mariadb-backup', [
    '--backup', '--stream=mbstream', `--target-dir=${dbTmpDir(env.paths, node)}`,
    `--socket=${dbSocket(env.paths, node)}`, '--user=root',
    // Lets replication go on while the copy runs; only the short final stage blocks commits on the replica.
    '--parallel=2',
  ]);
  const zstd = spawnStreaming('zstd', ['-q', '-3', '-T2', '-c'], { stdin: true });
  let streamBytes = 0;
  const count = new PassThrough();
  count.on('data', (b: Buffer) => (streamBytes += b.length));
  const fail = (e: unknown) => { backup.kill(); zstd.kill(); throw e; };
  const [, uploaded, stderr] = await Promise.all([
    pipeline(backup.stdout, count, zstd.stdin!),
    uploadStream(env.store, fullDataKey(id), zstd.stdout.pipe(new EncryptStream(env.key))),
    backup.done,
    zstd.done,
  ]).catch(fail);
  const gtid = GTID_LINE.exec(stderr)?.[1];
  if (gtid === undefined) throw new Error(`mariadb-backup did not report its GTID position; its output ends with: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const finished = new Date();
  const manifest: FullManifest = {
    kind: 'full', id, definition: env.definition.name, region: env.definition.regions.primary,
    release: currentVersion(env.paths), source: `${source}@${hostname()}`, gtid,
    startedAt: started.toISOString(), finishedAt: finished.toISOString(), streamBytes,
    object: uploaded, keyId: env.keyId, format: 'mbstream+zstd+aes-256-gcm-frames/1',
  };
  await putObject(env.store, fullManifestKey(id), JSON.stringify(manifest, null, 2) + '\n');
  const secs = (finished.getTime() - started.getTime()) / 1000;
  progress(`full backup ${id}: GTID ${gtid}, ${mb(streamBytes)} streamed → ${mb(uploaded.bytes)} stored in ${secs.toFixed(1)} s (sha256 ${uploaded.sha256.slice(0, 12)}…)`);
  return manifest;
}

export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
