// Admin SQL as data: what makes a node the primary or a replica (used by the region bootstrap and by
// the DB failover controller), the users, the bootstrap's order. Pure; the runner executes the
// statements on a node's Unix socket as root. Every step is safe to repeat.
import type { DbNode, ResolvedDefinition } from '@conduit/definition';
import type { DbTopology, RegionSecrets } from '../types.js';

export interface SqlStep {
  node: string;
  kind: 'users' | 'primary' | 'replica' | 'restore';
  /** One sentence: what this step does and why. */
  why: string;
  sql: string[];
}

/** A string literal for MariaDB (single quotes, backslashes and quotes escaped). */
export const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const q = sqlString;

/**
 * The privileges of the failover controller's admin user, each for a statement of its steps
 * (db-failover-steps.ts) or of its observation: no data access, no accounts, no SUPER.
 */
export const ADMIN_PRIVILEGES = [
  'READ_ONLY ADMIN', // SET GLOBAL read_only (fencing, promotion); flashback writes on a fenced node
  'REPLICATION SLAVE ADMIN', // STOP/START SLAVE, RESET SLAVE, CHANGE MASTER, gtid_slave_pos, the slave side of semi-sync
  'REPLICATION MASTER ADMIN', // the master side of semi-sync
  'SLAVE MONITOR', // SHOW SLAVE STATUS
  'BINLOG MONITOR', // SHOW BINARY LOGS
  'RELOAD', // RESET MASTER (a rewound node)
  'REPLICATION SLAVE', // flashback: mariadb-binlog --read-from-remote-server
  'BINLOG REPLAY', // flashback: applying the inverse events
  'BINLOG ADMIN', // flashback: SET SESSION sql_log_bin = 0
];

/** What the API needs on its database: its queries and the DDL of its migrations. */
export const APP_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES';

/** Accounts a data dir may hold that nothing here uses: root over TCP, anonymous users. */
export const strayAccounts = (hostname: string) =>
  [['root', '127.0.0.1'], ['root', '::1'], ['root', '%'], ['root', hostname], ['', 'localhost'], ['', hostname]]
    .filter(([u, h]) => !(u === 'root' && h === 'localhost'));

/**
 * Users on every node, written with sql_log_bin=0: each node gets identical users locally, nothing
 * about them flows through replication, so any node can be promoted and already has them.
 *
 * Root logs in over the node's socket only, as the OS user of the same name (unix_socket: no password
 * to steal); every other root or anonymous account is dropped (data dirs initialized before with
 * password root accounts included). The controllers' admin user is 'localhost' (socket only) too.
 */
export function usersStep(d: ResolvedDefinition, node: DbNode, s: RegionSecrets, hostname: string): SqlStep {
  const host = q('127.0.0.1');
  const user = (name: string, password: string, require = '', at = host) => [
    `CREATE USER IF NOT EXISTS ${q(name)}@${at} IDENTIFIED BY ${q(password)}${require}`,
    `ALTER USER ${q(name)}@${at} IDENTIFIED BY ${q(password)}${require}`,
  ];
  const appDb = `\`${d.database.databaseName}\`.*`;
  const appGrant = `GRANT ${APP_PRIVILEGES} ON ${appDb} TO ${q(s.appUser)}@${host}`;
  return {
    node: node.name,
    kind: 'users',
    why: `create the app, replication, exporter and admin users on ${node.name}, root by socket only (local, not binlogged)`,
    sql: [
      'SET SESSION sql_log_bin=0',
      "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket",
      `DROP USER IF EXISTS ${strayAccounts(hostname).map(([u, h]) => `${q(u!)}@${q(h!)}`).join(', ')}`,
      // TLS required of the app user only, as Aurora does (the cluster's app user is REQUIRE SSL).
      ...user(s.appUser, s.appPassword, ' REQUIRE SSL'),
      // Database-level privileges only: no READ ONLY ADMIN, so read_only fences the app out of replicas.
      // Rows, plus the DDL its migrations run (as on Aurora: packages/aws appUserSql); no DROP, routines,
      // triggers, events or views. A data dir from before granted ALL: granted, all revoked (REVOKE needs an
      // existing grant), granted again.
      appGrant,
      `REVOKE ALL PRIVILEGES ON ${appDb} FROM ${q(s.appUser)}@${host}`,
      appGrant,
      ...user(s.replUser, s.replPassword),
      `GRANT REPLICATION SLAVE ON *.* TO ${q(s.replUser)}@${host}`,
      ...user(s.exporterUser, s.exporterPassword),
      // Status and replication state only: no SELECT on *.* (that would include mysql.global_priv's hashes).
      `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${q(s.exporterUser)}@${host}`,
      `GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO ${q(s.exporterUser)}@${host}`,
      ...user(s.adminUser, s.adminPassword, '', q('localhost')),
      `GRANT ${ADMIN_PRIVILEGES.join(', ')} ON *.* TO ${q(s.adminUser)}@'localhost'`,
      'SET SESSION sql_log_bin=1',
    ],
  };
}

export interface ReplicationCredentials {
  user: string;
  password: string;
  /** The address the region's nodes listen on (its loopback address); default 127.0.0.1. */
  host?: string;
}

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

/** "Make this node the primary", once: no replication of its own, semi-sync master side on, writable. Safe to repeat. */
export const primarySql = (semiSyncTimeoutMs: number) => [
  'STOP SLAVE',
  'RESET SLAVE ALL',
  ...primarySemiSyncSql(semiSyncTimeoutMs),
  'SET GLOBAL read_only = OFF',
];

/**
 * "Make this node a replica of `source`", once (bootstrap, failover repoint, a returning old primary,
 * after a rewind). Safe to repeat.
 *
 * MASTER_USE_GTID = slave_pos with MASTER_DEMOTE_TO_SLAVE = 1, not current_pos: current_pos mixes the
 * node's own binlog into its position on every (re)connect, which MariaDB deprecated in 10.10
 * (MDEV-20122) because a stray local write then silently moves the replica's position; slave_pos is
 * the default since. DEMOTE_TO_SLAVE merges the node's own binlog position into its slave position
 * once, at CHANGE MASTER time, per domain keeping the more recent: exactly what a former primary (its
 * own writes are in its binlog, its slave position is empty or stale from before its promotion) and a
 * bootstrap over a data dir of unknown history need. On a plain replica it changes nothing (with
 * log_slave_updates its binlog holds what it applied). An errant local transaction still stops the
 * replica with "GTID … not in the master's binlog" (gtid_strict_mode): the failover controller rewinds
 * such a node before it gets here.
 */
export function replicaOfSql(source: Pick<DbNode, 'port'>, cred: ReplicationCredentials): string[] {
  return [
    'SET GLOBAL read_only = ON',
    'STOP SLAVE',
    // The master side must be off on a replica: with it on, its SQL thread stalls waiting for ACKs.
    'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
    'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
    `CHANGE MASTER TO MASTER_HOST = ${q(cred.host ?? '127.0.0.1')}, MASTER_PORT = ${source.port}, MASTER_USER = ${q(cred.user)}, ` +
      `MASTER_PASSWORD = ${q(cred.password)}, MASTER_USE_GTID = slave_pos, MASTER_DEMOTE_TO_SLAVE = 1, MASTER_CONNECT_RETRY = 1`,
    'START SLAVE',
  ];
}

/**
 * "Make this node the standby region's primary": read-only, replicating asynchronously from the other region's
 * writer endpoint (Aurora Global Database's storage replication, here MariaDB GTID replication). Semi-sync stays
 * inside a region: neither side is on for the cross-region link, so a slow link never stalls the primary's
 * commits. Its own replicas replicate from it. Safe to repeat.
 */
export function standbyOfSql(upstream: { host: string; port: number }, cred: ReplicationCredentials): string[] {
  return [
    'SET GLOBAL read_only = ON',
    'STOP SLAVE',
    'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
    'SET GLOBAL rpl_semi_sync_slave_enabled = OFF',
    `CHANGE MASTER TO MASTER_HOST = ${q(upstream.host)}, MASTER_PORT = ${upstream.port}, MASTER_USER = ${q(cred.user)}, ` +
      // DEMOTE_TO_SLAVE (see replicaOfSql): a former writer region's primary continues from its own binlog position.
      `MASTER_PASSWORD = ${q(cred.password)}, MASTER_USE_GTID = slave_pos, MASTER_DEMOTE_TO_SLAVE = 1, MASTER_CONNECT_RETRY = 1`,
    'START SLAVE',
  ];
}

/** The standby region's primary step (standbyOfSql): the database itself arrives by replication. */
export function standbyPrimaryStep(primary: DbNode, upstream: { host: string; port: number }, s: RegionSecrets): SqlStep {
  return {
    node: primary.name,
    kind: 'primary',
    why: `make ${primary.name} the standby region's primary: read-only, replicating asynchronously from the other region's writer ${upstream.host}:${upstream.port}`,
    sql: standbyOfSql(upstream, { user: s.replUser, password: s.replPassword }),
  };
}

/** Opens writes on the primary (primarySql) and creates the application database. */
export function primaryStep(d: ResolvedDefinition, primary: DbNode): SqlStep {
  return {
    node: primary.name,
    kind: 'primary',
    why: `make ${primary.name} the primary: writable, semi-sync (AFTER_SYNC) master side on`,
    sql: [
      ...primarySql(d.database.semiSyncTimeoutMs),
      // Binlogged: the replicas create it too.
      `CREATE DATABASE IF NOT EXISTS \`${d.database.databaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    ],
  };
}

/** Points a replica at the primary (replicaOfSql). */
export function replicaStep(d: ResolvedDefinition, replica: DbNode, primary: DbNode, s: RegionSecrets): SqlStep {
  return {
    node: replica.name,
    kind: 'replica',
    why: `make ${replica.name} a read-only replica of ${primary.name} (GTID, semi-sync replica side)`,
    sql: replicaOfSql(primary, { user: s.replUser, password: s.replPassword, host: d.address }),
  };
}

/** The whole replication bootstrap for a topology, in order: users everywhere, the primary, then the replicas. */
export function replicationSteps(d: ResolvedDefinition, topology: DbTopology, s: RegionSecrets, hostname: string, upstream: { host: string; port: number } | null = null): SqlStep[] {
  const byName = new Map(d.dbNodes.map((n) => [n.name, n]));
  const primary = byName.get(topology.primary);
  if (!primary) throw new Error(`db-topology primary "${topology.primary}" is not a node of the definition`);
  return [
    ...d.dbNodes.map((n) => usersStep(d, n, s, hostname)),
    upstream ? standbyPrimaryStep(primary, upstream, s) : primaryStep(d, primary),
    ...topology.replicas.map((r) => byName.get(r)).filter((n): n is DbNode => !!n).map((r) => replicaStep(d, r, primary, s)),
  ];
}

/**
 * After a restore installed the same dataset on every node (no binlog, nothing replicated yet): the
 * primary's binlog continues at the dataset's GTID position, and each replica starts replicating from it.
 */
export function restoredGtidSteps(d: ResolvedDefinition, topology: DbTopology, gtid: string): SqlStep[] {
  if (!/^(\d+-\d+-\d+)?$/.test(gtid)) throw new Error(`restored GTID position "${gtid}" is not domain-server-seq`);
  const set = (v: string) => (gtid ? [`SET GLOBAL ${v} = ${q(gtid)}`] : []);
  return d.dbNodes.map((n) => n.name === topology.primary
    ? { node: n.name, kind: 'restore' as const, why: `continue ${n.name}'s binlog at the restored position ${gtid || '(empty)'}`, sql: ['RESET MASTER', ...set('gtid_binlog_state')] }
    : { node: n.name, kind: 'restore' as const, why: `start ${n.name} replicating after the restored position ${gtid || '(empty)'}`, sql: ['STOP SLAVE', 'RESET SLAVE ALL', 'RESET MASTER', ...set('gtid_slave_pos')] });
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
