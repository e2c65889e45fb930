// Whether a MariaDB node about to be restarted needs a new copy of its data, and from where. Pure: the
// supervisor (daemon.ts prepareStart) reads the node's log and data dir, asks here, then clones or not.
import type { DbTopology } from '../types.js';

/** mariadbd's first line of every start ("[Note] Starting MariaDB 10.11… as process N"). */
const START = /\[Note\] Starting MariaDB /;
const READY = /ready for connections/;
/**
 * A start refused by InnoDB because of its files (a garbled or truncated ibdata1 or redo log: "Plugin
 * initialization aborted with error Data structure corruption", "Inconsistent tablespace ID in ./ibdata1",
 * "… is of a different size … than specified"), or the system tables gone. Not here on purpose: a port already
 * bound, a bad option, a full disk (InnoDB aborts with other errors then): a new copy fixes none of them.
 */
const START_REFUSED = [
  /\[ERROR\] InnoDB: Plugin initialization aborted with error Data structure corruption/,
  /\[ERROR\] InnoDB: Inconsistent tablespace ID in \.\/ibdata/,
  /\[ERROR\] InnoDB: The Auto-extending data file .* is of a different size/,
  /\[ERROR\] InnoDB: .*[Cc]orrupt/,
  /Fatal error: Can't open and lock privilege tables/,
];
/** A running server killed by a corrupt page it read (InnoDB stops the server rather than serve it). */
const DIED_OF_PAGE = /\[(ERROR|FATAL)\] InnoDB: .*(Database page corruption|corrupted (database )?page)/;

/**
 * The evidence, in mariadbd's own words, that its last run (since the last "Starting MariaDB" line of its
 * log) failed because of its data: null when it failed for another reason, or did not fail.
 */
export function corruptDataEvidence(logTail: string): string | null {
  const lines = logTail.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) if (START.test(lines[i]!)) { start = i; break; }
  if (start < 0) return null;
  const run = lines.slice(start + 1);
  const started = run.some((l) => READY.test(l));
  const hit = started ? run.find((l) => DIED_OF_PAGE.test(l)) : run.find((l) => START_REFUSED.some((re) => re.test(l)));
  // mariadbd's lines start with "2026-11-29 22:02:19 0 " (before 10:00 the hour is space-padded:
  // "2026-11-30  0:29:26 0 "): the date and thread id say nothing here.
  return hit ? hit.replace(/^\S+\s+\S+\s+\d+\s+/, '').trim() : null;
}

/** What the supervisor found of a node's data dir before its start. */
export interface DataDirEvidence {
  systemTables: boolean;
  corruption: string | null;
  /** The failover controller's reason (paths.ts dbRecloneRequest). */
  requested?: string | null;
}

/** Whether the node needs a new copy at all (then, and only then, a source is looked for). */
export const needsNewCopy = (dataDir: DataDirEvidence): boolean => !dataDir.systemTables || dataDir.corruption !== null || !!dataDir.requested;

export type RecloneDecision =
  | { kind: 'keep' }
  | { kind: 'clone'; source: string; why: string }
  | { kind: 'refuse'; sentence: string };

/**
 * A node whose data dir is gone (no system tables) or corrupt is re-cloned from a running replica whose applier
 * runs (`unfit`: those whose applier stopped on an error, their data may be what is wrong), else from the
 * running primary. Never the node the topology still names the primary: no failover happened (no replica was fit,
 * or the controller refused to promote past a primary committing alone), so it may be the only holder of
 * acknowledged writes; a copy from a replica would drop them. Its dir is kept, and so is a node with no source.
 */
export function recloneDecision(
  node: string,
  dataDir: DataDirEvidence,
  topology: DbTopology | null,
  running: ReadonlySet<string>,
  unfit: ReadonlySet<string> = new Set(),
): RecloneDecision {
  if (!needsNewCopy(dataDir)) return { kind: 'keep' };
  const why = !dataDir.systemTables ? 'its data dir was unusable (no system tables)'
    : dataDir.corruption !== null ? `its data dir is corrupt (mariadbd said: ${dataDir.corruption})`
    : `the failover controller asked for a new copy (${dataDir.requested})`;
  if (topology?.primary === node) {
    return {
      kind: 'refuse',
      sentence:
        `${node}: ${why}, but it is still the primary (no replica was promoted), maybe the only node holding acknowledged writes: ` +
        `not re-cloning it; its data dir is kept as it is and it is started again (an operator restores it: \`tier restore\`, or repairs it)`,
    };
  }
  const replicas = (topology?.replicas ?? []).filter((n) => !unfit.has(n));
  const source = [...replicas, topology?.primary].find((n): n is string => !!n && n !== node && running.has(n));
  if (!source) return { kind: 'refuse', sentence: `${node}: ${why} and no other database node runs to re-clone it from; starting it as it is` };
  return { kind: 'clone', source, why };
}
