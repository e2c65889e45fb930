// The database failover controller's actions as data: a decision becomes a list of steps
// (admin SQL per node, HAProxy runtime commands, the topology file). Pure: tests check the steps;
// db-failover.ts carries them out through the runner and state.ts.
import type { DbNode } from '@conduit/definition';
import { BACKENDS } from '../generators/haproxy.js';
import { primarySemiSyncSql, primarySql, replicaOfSql, sqlString, type ReplicationCredentials } from '../specs/db.js';
import type { Decision, DbTopology, Policy } from './db-failover-decide.js';

const WRITER_BACKEND = BACKENDS.dbWriter;
const READER_BACKEND = BACKENDS.dbReader;

export type Step =
  | {
      kind: 'sql'; node: string; sql: string[]; /** A failure is ignored (e.g. fencing a node that may be gone). */ bestEffort: boolean;
      /** Deadline of this step when shorter than the controller's default (a node that may be frozen must not hold a promotion). */
      timeoutMs?: number;
    }
  /** Waits until the node has applied everything it received (MASTER_GTID_WAIT). */
  | { kind: 'gtid-wait'; node: string; gtid: string; timeoutMs: number }
  | { kind: 'haproxy'; commands: string[]; bestEffort: boolean }
  /** Undoes the node's own transactions after `startGtid` (exclusive) from its binlog (mariadb-binlog --flashback), unlogged. */
  | { kind: 'flashback'; node: string; startGtid: string }
  /** Copies those transactions to a file (<stateDir>/errant/) before anything undoes them. */
  | { kind: 'save-errant'; node: string; startGtid: string; errant: string }
  /** A re-cloned node replicates: its copy's coordinates file is set aside (xtrabackup_binlog_info.applied). */
  | { kind: 'clone-rejoined'; node: string }
  /** The supervisor stops the node and starts it on a new copy of a healthy node's data (not awaited: a clone takes seconds to minutes). */
  | { kind: 'reclone'; node: string; why: string }
  | { kind: 'topology'; topology: DbTopology };

export interface PlanContext {
  nodes: readonly DbNode[];
  topology: DbTopology;
  replication: ReplicationCredentials;
  policy: Policy;
  now: number;
  /** Whether HAProxy has a reader backend to keep in step (tests without a reader endpoint pass false). */
  hasReader: boolean;
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
        // If it answers again, it must not take writes (it is unreachable, so this usually fails: fine). A frozen
        // primary accepts the connection and never answers: a short deadline, the ticks fence it once it resumes.
        { kind: 'sql', node: decision.from, sql: ['SET GLOBAL read_only = ON'], bestEffort: true, timeoutMs: 300 },
        // Apply the relay log before opening: the acknowledged writes it received must be in its tables.
        { kind: 'gtid-wait', node: to.name, gtid: decision.waitForGtid, timeoutMs: 5000 },
        { kind: 'sql', node: to.name, sql: primarySql(ctx.policy.semiSyncTimeoutMs), bestEffort: false },
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
        { kind: 'sql', node: decision.node, sql: primarySql(ctx.policy.semiSyncTimeoutMs), bestEffort: false },
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
        { kind: 'save-errant', node: decision.node, startGtid: decision.fork, errant: decision.errant },
        { kind: 'flashback', node: decision.node, startGtid: decision.fork },
        {
          kind: 'sql',
          node: decision.node,
          // Its binlog still names the undone transactions: start a fresh one, at the fork.
          sql: ['RESET MASTER', `SET GLOBAL gtid_slave_pos = ${sqlString(decision.fork)}`, ...replicaOfSql(node(decision.to), ctx.replication)],
          bestEffort: false,
        },
      ];
    case 'repoint':
      if (decision.slavePos) {
        return [
          { kind: 'sql', node: decision.node, sql: ['STOP SLAVE', `SET GLOBAL gtid_slave_pos = ${sqlString(decision.slavePos)}`, ...replicaOfSql(node(decision.to), ctx.replication)], bestEffort: false },
          { kind: 'clone-rejoined', node: decision.node },
        ];
      }
      return [{ kind: 'sql', node: decision.node, sql: replicaOfSql(node(decision.to), ctx.replication), bestEffort: false }];
    case 'reclone':
      return [{ kind: 'reclone', node: decision.node, why: decision.why }];
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
