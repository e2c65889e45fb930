// `tier region switchover`: the planned swap of the writer region with no data loss (Aurora's
// switchover-global-cluster). Writes pause (the writer's primary turns read-only: clients get 503 +
// Retry-After), the standby applies everything up to that point, it is promoted (its region failover
// steps: fence, writable, new cache generation), and the old writer region becomes its standby, replicating
// from the new writer endpoint from exactly where it stopped. On any failure before the promotion the old
// writer is reopened: a failed switchover changes nothing.
import type { ResolvedDefinition } from '@conduit/definition';
import { dbSocket, statePaths } from '../paths.js';
import { queryNode, runSql } from '../runner/index.js';
import { readSecrets, readTopology } from '../state.js';
import { sqlString, standbyOfSql } from '../specs/db.js';
import { promoteRegion } from '../controllers/region-failover.js';
import { readPlan } from '../supervisor/plan.js';
import { RegionError } from './errors.js';
import { regionsByRole } from './regions.js';

/** How long the standby may take to apply what the writer had when writes paused. */
const CATCH_UP_TIMEOUT_S = 10;

export interface SwitchoverReport {
  from: string;
  to: string;
  /** The writer's last GTID when writes paused: the standby had applied it before its promotion. */
  gtid: string;
  /** ms from the pause to the standby having applied everything, and to the new writer taking writes. */
  caughtUpMs: number;
  writePauseMs: number;
  sentence: string;
}

export async function regionSwitchover(d: ResolvedDefinition, stateDir: string, progress: (line: string) => void = () => undefined): Promise<SwitchoverReport> {
  const { writer, standby } = regionsByRole(d, stateDir);
  const plans = [writer, standby].map((r) => {
    try {
      return readPlan(statePaths(r.stateDir).plan);
    } catch (e) {
      throw new RegionError((e as Error).message);
    }
  });
  const [wDef, sDef] = plans.map((p) => p.definition) as [ResolvedDefinition, ResolvedDefinition];
  const wPaths = statePaths(writer.stateDir, plans[0]!.varnishInTmp);
  const sPaths = statePaths(standby.stateDir, plans[1]!.varnishInTmp);
  const wTopo = readTopology(wPaths);
  const sTopo = readTopology(sPaths);
  if (!wTopo || !sTopo) throw new RegionError('a region has no db-topology.json: was it brought up?');
  const wSock = dbSocket(wPaths, { name: wTopo.primary });
  const sSock = dbSocket(sPaths, { name: sTopo.primary });

  // 1. Pause writes at the writer: from here on the API answers writes with 503 + Retry-After.
  const t0 = Date.now();
  await runSql(wSock, wTopo.primary, ['SET GLOBAL read_only = ON'], { timeoutMs: 5_000 });
  const [b] = await queryNode<{ pos: string }>(wSock, 'SELECT @@gtid_binlog_pos AS pos', 2_000);
  const gtid = b?.pos ?? '';
  progress(`writes paused at ${wDef.regionName} (${wTopo.primary} read-only at GTID ${gtid})`);
  try {
    // 2. The standby applies everything the writer had.
    const [w] = await queryNode<{ r: number | null }>(sSock, `SELECT MASTER_GTID_WAIT(${sqlString(gtid)}, ${CATCH_UP_TIMEOUT_S}) AS r`, (CATCH_UP_TIMEOUT_S + 2) * 1000);
    if (Number(w?.r) !== 0) throw new Error(`${sDef.regionName} did not apply up to ${gtid} within ${CATCH_UP_TIMEOUT_S} s`);
  } catch (e) {
    await runSql(wSock, wTopo.primary, ['SET GLOBAL read_only = OFF'], { timeoutMs: 5_000 });
    throw new RegionError(`switchover abandoned, writes reopened at ${wDef.regionName}: ${(e as Error).message}`);
  }
  const caughtUpMs = Date.now() - t0;
  progress(`${sDef.regionName} applied everything up to ${gtid} in ${caughtUpMs} ms`);

  // 3. The old writer region is a standby from now on (its DB failover controller stands aside), and the
  //    standby is promoted: writable, semi-sync inside its region, a new cache generation.
  //    (Not "fenced": it replicates from the new writer right below, so it may take over again.)
  const upstream = { host: sDef.address, port: sDef.local.ports.dbWriter };
  const sentence = await promoteRegion(sDef, sPaths, `planned switchover from ${wDef.regionName}, nothing lost (applied up to ${gtid})`, `planned switchover to ${sDef.regionName}`);
  const writePauseMs = Date.now() - t0;

  // 4. The old writer replicates from the new writer endpoint, from exactly where writes paused.
  const s = readSecrets(wPaths);
  await runSql(wSock, wTopo.primary, ['STOP SLAVE', `SET GLOBAL gtid_slave_pos = ${sqlString(gtid)}`, ...standbyOfSql(upstream, { user: s.replUser, password: s.replPassword })], { timeoutMs: 5_000 });
  progress(`${wDef.regionName} now replicates from ${sDef.regionName}'s writer ${upstream.host}:${upstream.port}`);
  return { from: wDef.regionName, to: sDef.regionName, gtid, caughtUpMs, writePauseMs, sentence };
}
