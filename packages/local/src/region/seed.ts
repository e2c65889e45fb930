// `tier seed --size 1GB`: generated Conduit data on the running region's primary (specs/volume.ts), in
// batches (each one replicated and archived like any write), then the application tables' size on disk.
import { randomBytes } from 'node:crypto';
import type { ResolvedDefinition } from '@conduit/definition';
import { dbSocket, statePaths } from '../paths.js';
import { queryNode, runSql } from '../runner/index.js';
import { readTopology, supervisorState } from '../state.js';
import { parseSize, volumeSeedBatches } from '../specs/volume.js';
import { RegionError } from './errors.js';

export interface VolumeSeedResult {
  articles: number;
  /** Data + index bytes of the application database after the seed (information_schema after ANALYZE). */
  bytes: number;
  seconds: number;
}

export async function seedVolume(o: { definition: ResolvedDefinition; stateDir: string; size: string; progress: (l: string) => void }): Promise<VolumeSeedResult> {
  let size: number;
  try {
    size = parseSize(o.size);
  } catch (e) {
    throw new RegionError((e as Error).message);
  }
  const paths = statePaths(o.stateDir);
  if (!supervisorState(paths)?.running) throw new RegionError(`region "${o.definition.name}" is not running: start it with \`tier up\``);
  const primary = o.definition.dbNodes.find((n) => n.name === readTopology(paths)?.primary)!;
  const socket = dbSocket(paths, primary);
  const db = o.definition.database.databaseName;
  const t0 = Date.now();
  const batches = volumeSeedBatches(db, size, randomBytes(4).toString('hex'));
  for (let i = 0; i < batches.length; i++) {
    await runSql(socket, primary.name, batches[i]!, { timeoutMs: 600_000 });
    if (i % 10 === 9 || i === batches.length - 1) o.progress(`batch ${i + 1}/${batches.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const tables = await queryNode<{ t: string }>(socket, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '${db}' AND table_type = 'BASE TABLE'`);
  for (const { t } of tables) await queryNode(socket, `ANALYZE TABLE \`${db}\`.\`${t}\``, 120_000);
  const [sz] = await queryNode<{ b: string; a: string }>(socket, `SELECT SUM(data_length + index_length) AS b, (SELECT COUNT(*) FROM \`${db}\`.articles) AS a FROM information_schema.tables WHERE table_schema = '${db}'`);
  return { articles: Number(sz?.a ?? 0), bytes: Number(sz?.b ?? 0), seconds: (Date.now() - t0) / 1000 };
}
