// Admin SQL as data: the region bootstrap's replication setup. Pure; the runner executes the
// statements on a node's Unix socket as root. Every step is safe to repeat.
import type { DbNode, ResolvedDefinition } from '@conduit/definition';
import type { DbTopology, RegionSecrets } from '../types.js';

export interface SqlStep {
  node: string;
  kind: 'users' | 'primary' | 'replica';
  /** One sentence: what this step does and why. */
  why: string;
  sql: string[];
}

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Users on every node, written with sql_log_bin=0: each node gets identical users locally, nothing
 * about them flows through replication, so any node can be promoted and already has them.
 */
export function usersStep(d: ResolvedDefinition, node: DbNode, s: RegionSecrets): SqlStep {
  const host = q('127.0.0.1');
  const user = (name: string, password: string) => [
    `CREATE USER IF NOT EXISTS ${q(name)}@${host} IDENTIFIED BY ${q(password)}`,
    `ALTER USER ${q(name)}@${host} IDENTIFIED BY ${q(password)}`,
  ];
  return {
    node: node.name,
    kind: 'users',
    why: `create the app, replication and exporter users on ${node.name} (local, not binlogged)`,
    sql: [
      'SET SESSION sql_log_bin=0',
      ...user(s.appUser, s.appPassword),
      // Database-level privileges only: no READ ONLY ADMIN, so read_only fences the app out of replicas.
      `GRANT ALL PRIVILEGES ON \`${d.database.databaseName}\`.* TO ${q(s.appUser)}@${host}`,
      ...user(s.replUser, s.replPassword),
      `GRANT REPLICATION SLAVE ON *.* TO ${q(s.replUser)}@${host}`,
      ...user(s.exporterUser, s.exporterPassword),
      `GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO ${q(s.exporterUser)}@${host}`,
      'SET SESSION sql_log_bin=1',
    ],
  };
}

/** Opens writes on the primary: no replication of its own, read_only off, semi-sync master side on. */
export function primaryStep(d: ResolvedDefinition, primary: DbNode): SqlStep {
  return {
    node: primary.name,
    kind: 'primary',
    why: `make ${primary.name} the primary: writable, semi-sync (AFTER_SYNC) master side on`,
    sql: [
      'STOP ALL SLAVES',
      'RESET SLAVE ALL',
      'SET GLOBAL rpl_semi_sync_master_enabled=ON',
      'SET GLOBAL read_only=OFF',
      // Binlogged: the replicas create it too.
      `CREATE DATABASE IF NOT EXISTS \`${d.database.databaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    ],
  };
}

/**
 * Points a replica at the primary with GTID. MASTER_USE_GTID=current_pos: on a pure replica it
 * equals slave_pos, and on a former primary that rejoins it includes what it wrote itself.
 */
export function replicaStep(replica: DbNode, primary: DbNode, s: RegionSecrets): SqlStep {
  return {
    node: replica.name,
    kind: 'replica',
    why: `make ${replica.name} a read-only replica of ${primary.name} (GTID, semi-sync replica side)`,
    sql: [
      'SET GLOBAL rpl_semi_sync_master_enabled=OFF',
      'SET GLOBAL read_only=ON',
      'STOP SLAVE',
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER=${q(s.replUser)}, ` +
        `MASTER_PASSWORD=${q(s.replPassword)}, MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1`,
      'START SLAVE',
    ],
  };
}

/** The whole replication bootstrap for a topology, in order: users everywhere, the primary, then the replicas. */
export function replicationSteps(d: ResolvedDefinition, topology: DbTopology, s: RegionSecrets): SqlStep[] {
  const byName = new Map(d.dbNodes.map((n) => [n.name, n]));
  const primary = byName.get(topology.primary);
  if (!primary) throw new Error(`db-topology primary "${topology.primary}" is not a node of the definition`);
  return [
    ...d.dbNodes.map((n) => usersStep(d, n, s)),
    primaryStep(d, primary),
    ...topology.replicas.map((r) => byName.get(r)).filter((n): n is DbNode => !!n).map((r) => replicaStep(r, primary, s)),
  ];
}

/** The topology at first start: the definition's initial roles. */
export function initialTopology(d: ResolvedDefinition, now = new Date()): DbTopology {
  return {
    primary: d.dbNodes.find((n) => n.initialRole === 'primary')!.name,
    replicas: d.dbNodes.filter((n) => n.initialRole === 'replica').map((n) => n.name),
    updatedAt: now.toISOString(),
  };
}

/**
 * Keeps a persisted topology (the failover controller may have promoted a replica) when it still
 * matches the definition's nodes; otherwise starts over from the definition.
 */
export function reconcileTopology(d: ResolvedDefinition, saved: DbTopology | null, now = new Date()): DbTopology {
  const names = new Set(d.dbNodes.map((n) => n.name));
  if (!saved || !names.has(saved.primary)) return initialTopology(d, now);
  const replicas = d.dbNodes.map((n) => n.name).filter((n) => n !== saved.primary);
  return { primary: saved.primary, replicas, updatedAt: saved.updatedAt };
}
