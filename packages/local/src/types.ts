// Shapes shared by the generators, the supervisor, the CLI and the drills.
import type { Tier } from '@conduit/definition';

/** Generated once per region, kept in <stateDir>/secrets.json (mode 600). */
export interface RegionSecrets {
  /** Signs the API's JWTs (>= 32 chars). */
  jwtSecret: string;
  /** MariaDB user the API connects as (through the writer/reader endpoints). */
  appUser: string;
  appPassword: string;
  /** MariaDB replication user (replicas connect to the primary as this user). */
  replUser: string;
  replPassword: string;
  /** MariaDB user of prometheus-mysqld-exporter. */
  exporterUser: string;
  exporterPassword: string;
  /**
   * MariaDB user of the DB failover controller: over a node's socket only ('localhost'), with the
   * replication and read_only privileges its steps need and no access to data or accounts.
   */
  adminUser: string;
  adminPassword: string;
  /**
   * Redis ACL users (written into each node's redis.conf, mode 600). `default`: the control plane
   * (status, the region failover's FLUSHALL, drills), every command; `conduit-api` (redisApiUser): the
   * API, its keys (`conduit:*`) and commands only; `replica`: replication (masteruser); `sentinel`: the
   * Sentinels' connections to Redis; `exporter`: prometheus-redis-exporter, INFO-like commands only.
   */
  redisAdminPassword: string;
  redisApiUser: string;
  redisApiPassword: string;
  redisReplicaPassword: string;
  redisSentinelPassword: string;
  redisExporterPassword: string;
  /** Sentinel's own requirepass: the API (ioredis sentinelPassword) and the control plane ask the Sentinels with it. */
  sentinelPassword: string;
}

/** <stateDir>/region.json: this region's part in a two-region deployment. */
export interface RegionRole {
  role: 'primary' | 'standby';
  /** A standby's source: the other region's writer endpoint, which its database primary replicates from. */
  upstream: { host: string; port: number } | null;
  /** The other region's state folder (the region failover fences what it can reach of it); null for one region. */
  peerStateDir: string | null;
  /** Bumped at every promotion: caches start over (Redis flushed, the edge banned) so nothing older is served. */
  cacheGeneration: number;
  /** When the role last changed, and the sentence that changed it. */
  updatedAt: string;
  why: string;
}

/** <stateDir>/db-topology.json: who is the primary now. Written at bootstrap, updated by the failover controller. */
export interface DbTopology {
  primary: string;
  replicas: string[];
  updatedAt: string;
}

/** What the supervisor does when a process exits on its own. */
export type RestartPolicy =
  /** Replace it, like an Auto Scaling group replaces an unhealthy instance (API and front instances, LB, edge, monitoring). */
  | 'replace'
  /**
   * Restart it in place, on its own data, after `restartAfterMs` (doubling while it keeps crashing): the
   * stateful nodes (MariaDB, Redis, Sentinel). The failover machinery (the DB failover controller, Sentinel)
   * acts first, then rejoins the restarted node in the role it gives it (a replica of the new primary).
   */
  | 'restart'
  /** Leave it down (a node stopped on purpose stays down until started). */
  | 'never';

/** How readiness and health are probed. */
export type Probe =
  | { kind: 'tcp' }
  | { kind: 'http'; path: string }
  /** A DNS server: any answer to a question for `name` (SERVFAIL included) is a server that answers. */
  | { kind: 'dns'; name: string }
  /** A process that listens nowhere (the edge's access logger, port 0): running is healthy. */
  | { kind: 'alive' };

/** One process of the region, as data: the runner spawns it, the supervisor owns it. */
export interface ProcessSpec {
  name: string;
  tier: Tier;
  /** The region it belongs to (its AWS region name: regions.primary or regions.secondary), for status, logs and metrics. */
  region: string;
  /** The loopback address it binds (the region's address). */
  host: string;
  /** Zone label; null for regional components (LB, edge, monitoring). */
  zone: string | null;
  port: number;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  restartPolicy: RestartPolicy;
  /** Readiness while starting, and health in `tier status`. */
  probe: Probe;
  /**
   * [generated, live] files copied before a start when the live copy is missing. Sentinel rewrites its
   * live config with what it learned (current primary, peers, epoch): a restarted Sentinel keeps it,
   * instead of announcing the definition's first primary. `tier up` removes the live copies, so a cold
   * start begins from the definition.
   */
  copyBeforeStart: Array<[from: string, to: string]>;
  /** SIGTERM, wait this long, then SIGKILL (per process group). */
  stopGraceMs: number;
  /** restartPolicy "restart": the first delay before a crashed process is started again. */
  restartAfterMs?: number;
  /** Start order: lower first; `down` stops in reverse. */
  stage: number;
  /** API and front instances: the release version they run. */
  version?: string;
}

/** One line of <stateDir>/processes.json. */
export interface ProcessRecord {
  name: string;
  tier: Tier;
  /** Region and loopback address (absent in a processes.json written before regions existed: 127.0.0.1). */
  region?: string;
  host?: string;
  zone: string | null;
  pid: number | null;
  port: number;
  logFile: string;
  restartPolicy: RestartPolicy;
  /** How `tier status` checks its health. */
  probe: Probe;
  state: 'starting' | 'running' | 'stopped' | 'exited' | 'restarting';
  restarts: number;
  startedAt: string | null;
  /** Why it last exited, e.g. "killed by SIGKILL". */
  lastExit: string | null;
  command: string[];
  /** API and front instances: the release version it runs; null for other processes. */
  version?: string | null;
}

export interface ProcessesFile {
  supervisor: { pid: number; startedAt: string };
  updatedAt: string;
  processes: ProcessRecord[];
}
