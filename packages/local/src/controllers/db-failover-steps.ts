// The database failover controller's actions as data: a decision becomes a list of steps
// (admin SQL per node, HAProxy runtime commands, the topology file). Pure: tests check the steps,
// the runner (db-failover-runner.ts) is the only place that executes them.
import type { DbNode } from '@conduit/definition';
import type { Decision, DbTopology, Policy } from './db-failover-decide.js';

export const WRITER_BACKEND = 'be_db_writer';
export const READER_BACKEND = 'be_db_reader';

export type Step =
  | { kind: 'sql'; node: string; sql: string[]; /** A failure is ignored (e.g. fencing a node that may be gone). */ bestEffort: boolean }
  /** Waits until the node has applied everything it received (MASTER_GTID_WAIT). */
  | { kind: 'gtid-wait'; node: string; gtid: string; timeoutMs: number }
  | { kind: 'haproxy'; commands: string[]; bestEffort: boolean }
  /** Undoes the node's own transactions after `startGtid` (exclusive) from its binlog (mariadb-binlog --flashback), unlogged. */
  | { kind: 'flashback'; node: string; startGtid: string }
  | { kind: 'topology'; topology: DbTopology };

export interface ReplicationCredentials {
  user: string;
  password: string;
}

export interface PlanContext {
  nodes: readonly DbNode[];
  topology: DbTopology;
  replication: ReplicationCredentials;
  policy: Policy;
  now: number;
  /** Whether HAProxy has a reader backend to keep in step (tests without a reader endpoint pass false). */
  hasReader: boolean;
}

/** A string literal for MariaDB (single quotes, backslashes and quotes escaped). */
export const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The master side of semi-sync as a primary needs it: AFTER_SYNC, and a first commit that never blocks. */
export const primarySemiSyncSql = (timeoutMs: number) => [
  'SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC',
  // With ON (the default) and no replica connected yet, the first commit waits for the whole timeout.
  'SET GLOBAL rpl_semi_sync_master_wait_no_slave = OFF',
  `SET GLOBAL rpl_semi_sync_master_timeout = ${Math.round(timeoutMs)}`,
  'SET GLOBAL rpl_semi_sync_master_enabled = ON',
  // A primary acknowledges nobody: the slave side only matters on replicas.
  'SET GLOBAL rpl_semi_sync_slave_enabled = OFF',
];

/** Makes a node a replica of `source` from its own GTID position; safe to repeat. */
export function replicaOfSql(source: DbNode, cred: ReplicationCredentials, formerPrimary = false): string[] {
  return [
    'SET GLOBAL read_only = ON',
    'STOP SLAVE',
    // A former primary never had a slave position: start from what its own binlog holds
    // (its unacknowledged tail was truncated by its crash recovery, see init_rpl_role=SLAVE).
    ...(formerPrimary ? ['SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos'] : []),
    // The master side must be off on a replica: with it on, its SQL thread stalls waiting for ACKs.
    'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
    'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
    `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${source.port}, MASTER_USER = ${sqlString(cred.user)}, ` +
      `MASTER_PASSWORD = ${sqlString(cred.password)}, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
    'START SLAVE',
  ];
}

const writerCommands = (primary: string, maint: string[]) => [
  ...maint.flatMap((n) => [`set server ${WRITER_BACKEND}/${n} state maint`, `shutdown sessions server ${WRITER_BACKEND}/${n}`]),
  `set server ${WRITER_BACKEND}/${primary} state ready`,
];

const topologyOf = (primary: string, nodes: readonly DbNode[], now: number): DbTopology => ({
  primary,
  replicas: nodes.map((n) => n.name).filter((n) => n !== primary),
  updatedAt: new Date(now).toISOString(),
});

/** The steps that carry out one decision, in order. Empty for decisions that only report. */
export function planSteps(decision: Decision, ctx: PlanContext): Step[] {
  const node = (name: string) => {
    const n = ctx.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no database node named ${name} in the definition`);
    return n;
  };
  switch (decision.kind) {
    case 'none':
    case 'wait':
    case 'blocked':
      return [];
    case 'fence':
      return [
        { kind: 'haproxy', commands: [`set server ${WRITER_BACKEND}/${decision.node} state maint`, `shutdown sessions server ${WRITER_BACKEND}/${decision.node}`], bestEffort: true },
        { kind: 'sql', node: decision.node, sql: ['SET GLOBAL read_only = ON'], bestEffort: false },
      ];
    case 'failover': {
      const to = node(decision.to);
      const steps: Step[] = [
        // Fence first: the old primary leaves the writer endpoint and its sessions are cut, before anyone is
        // promoted. Best effort: with HAProxy itself down nobody reaches the old primary through it anyway.
        {
          kind: 'haproxy',
          commands: [
            `set server ${WRITER_BACKEND}/${decision.from} state maint`,
            `shutdown sessions server ${WRITER_BACKEND}/${decision.from}`,
            ...(ctx.hasReader ? [`set server ${READER_BACKEND}/${decision.from} state maint`] : []),
          ],
          bestEffort: true,
        },
        // If it answers again, it must not take writes (it is unreachable, so this usually fails: fine).
        { kind: 'sql', node: decision.from, sql: ['SET GLOBAL read_only = ON'], bestEffort: true },
        // Apply the relay log before opening: the acknowledged writes it received must be in its tables.
        { kind: 'gtid-wait', node: to.name, gtid: decision.waitForGtid, timeoutMs: 5000 },
        { kind: 'sql', node: to.name, sql: ['STOP SLAVE', 'RESET SLAVE ALL', ...primarySemiSyncSql(ctx.policy.semiSyncTimeoutMs), 'SET GLOBAL read_only = OFF'], bestEffort: false },
        // Recorded as soon as it is writable: if a later step fails, the next tick finishes the job from the
        // new topology (switch the writer, repoint) instead of fencing the node it has just promoted.
        { kind: 'topology', topology: topologyOf(to.name, ctx.nodes, ctx.now) },
        ...decision.repoint.map((r): Step => ({ kind: 'sql', node: r, sql: replicaOfSql(to, ctx.replication), bestEffort: true })),
        { kind: 'haproxy', commands: writerCommands(to.name, [decision.from, ...decision.repoint]), bestEffort: false },
      ];
      return steps;
    }
    case 'open-primary':
      return [
        { kind: 'sql', node: decision.node, sql: ['STOP SLAVE', 'RESET SLAVE ALL', ...primarySemiSyncSql(ctx.policy.semiSyncTimeoutMs), 'SET GLOBAL read_only = OFF'], bestEffort: false },
        { kind: 'haproxy', commands: writerCommands(decision.node, ctx.nodes.map((n) => n.name).filter((n) => n !== decision.node)), bestEffort: true },
      ];
    case 'switch-writer':
      return [{ kind: 'haproxy', commands: writerCommands(decision.primary, decision.maint), bestEffort: false }];
    case 'configure-primary':
      return [{ kind: 'sql', node: decision.node, sql: primarySemiSyncSql(ctx.policy.semiSyncTimeoutMs), bestEffort: false }];
    case 'configure-replica':
      return [
        {
          kind: 'sql',
          node: decision.node,
          // The slave side is read when the IO thread starts: restart it.
          sql: ['SET GLOBAL rpl_semi_sync_master_enabled = OFF', 'STOP SLAVE IO_THREAD', 'SET GLOBAL rpl_semi_sync_slave_enabled = ON', 'START SLAVE IO_THREAD'],
          bestEffort: false,
        },
      ];
    case 'rewind':
      return [
        { kind: 'sql', node: decision.node, sql: ['SET GLOBAL read_only = ON', 'STOP SLAVE'], bestEffort: false },
        { kind: 'flashback', node: decision.node, startGtid: decision.fork },
        {
          kind: 'sql',
          node: decision.node,
          // Its binlog still names the undone transactions: start a fresh one, at the fork.
          sql: ['RESET MASTER', `SET GLOBAL gtid_slave_pos = ${sqlString(decision.fork)}`, ...replicaOfSql(node(decision.to), ctx.replication).slice(1)],
          bestEffort: false,
        },
      ];
    case 'repoint':
      return [{ kind: 'sql', node: decision.node, sql: replicaOfSql(node(decision.to), ctx.replication, decision.formerPrimary), bestEffort: false }];
    case 'reader':
      return [
        {
          kind: 'haproxy',
          commands: [
            ...decision.maint.flatMap((n) => [`set server ${READER_BACKEND}/${n} state maint`, `shutdown sessions server ${READER_BACKEND}/${n}`]),
            ...decision.ready.map((n) => `set server ${READER_BACKEND}/${n} state ready`),
          ],
          bestEffort: false,
        },
      ];
  }
}
