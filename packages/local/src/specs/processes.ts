// Process specs as data: which binary, which arguments, which environment, which log, what to do
// when it dies. Pure: the runner spawns them, the supervisor owns them, tests read them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InstanceSlot, ResolvedDefinition, DbNode, CacheNode, SentinelNode } from '@conduit/definition';
import { apiEnvironment } from '@conduit/api/environment';
import { backupAgentEntry, consoleServerEntry, dbCnfFile, logFile, nginxConfFile, nginxPrefix, redisConfFile, releaseTierDir, repoRoot, sentinelConfFiles, type BackupPaths, type StatePaths } from '../paths.js';
import type { ProcessSpec, RegionSecrets } from '../types.js';
import { adminSocketUser } from '../runner/mariadb.js';
import { runsDns } from '../generators/pdns.js';

export interface SpecContext {
  definition: ResolvedDefinition;
  paths: StatePaths;
  secrets: RegionSecrets;
  /** The installed release new API and front instances run (releases/<version>/{api,front}). */
  version: string;
  /** tsx's loader, for the one-off demo seed (`node --import <tsx> packages/api/src/commands/seed.ts`). */
  tsxLoader?: string;
  nodeBinary?: string;
  /**
   * The backup folder outside the state folder (object store data, key store). Set by the supervisor;
   * without it the region runs no object store and no backup agent (tests that build specs alone).
   */
  backups?: BackupPaths;
}

export const tsxLoaderPath = (): string => createRequire(import.meta.url).resolve('tsx');

const base = (ctx: Pick<SpecContext, 'definition' | 'paths'>, name: string) => ({
  region: ctx.definition.regionName,
  host: ctx.definition.address,
  env: {} as Record<string, string>,
  cwd: ctx.paths.root,
  logFile: logFile(ctx.paths, name),
  copyBeforeStart: [] as Array<[string, string]>,
});

/** Where the outside world reaches the region; `tier status --json` prints these. */
export function endpoints(d: ResolvedDefinition) {
  const p = d.local.ports;
  const http = (port: number, path = '') => `http://${d.address}:${port}${path}`;
  return {
    /** The site: Varnish, like the CloudFront distribution. */
    edge: http(p.edge, '/'),
    apiDocs: http(p.edge, '/api/docs'),
    api: http(p.edge, '/api'),
    frontLb: http(p.front, '/'),
    apiLb: http(p.api, '/'),
    lbStats: http(p.lbStats, '/stats'),
    lbMetrics: http(p.lbStats, '/metrics'),
    prometheus: http(p.prometheus, '/'),
    dbWriter: `mysql://${d.address}:${p.dbWriter}/${d.database.databaseName}`,
    dbReader: `mysql://${d.address}:${p.dbReader}/${d.database.databaseName}`,
    redisSentinels: d.sentinelNodes.map((s) => `${d.address}:${s.port}`).join(','),
    redisMasterName: d.cacheMasterName,
    mysqldExporter: http(p.mysqldExporter, '/metrics'),
    redisExporter: http(p.redisExporter, '/metrics'),
    /** The ops console and Alertmanager (null when observability.console is off). */
    console: d.observability.console ? http(p.console, '/') : null,
    alertmanager: d.observability.console ? http(p.alertmanager, '/') : null,
  };
}

/** Database URLs the API uses: always through the HAProxy writer/reader endpoints, never a node. */
export function databaseUrls(d: ResolvedDefinition, secrets: RegionSecrets) {
  const auth = `${encodeURIComponent(secrets.appUser)}:${encodeURIComponent(secrets.appPassword)}`;
  const db = d.database.databaseName;
  return {
    writer: `mysql://${auth}@${d.address}:${d.local.ports.dbWriter}/${db}`,
    reader: `mysql://${auth}@${d.address}:${d.local.ports.dbReader}/${db}`,
  };
}

export function dbNodeSpec(ctx: SpecContext, node: DbNode): ProcessSpec {
  return {
    ...base(ctx, node.name),
    name: node.name, tier: 'db', zone: node.zone, port: node.port,
    command: 'mariadbd',
    args: [`--defaults-file=${dbCnfFile(ctx.paths, node)}`],
    // Restarted in place once the failover controller had time to promote a replica (failoverAfterMs +
    // a tick + the promotion): the node comes back read-only and the controller rejoins it as a replica.
    restartPolicy: 'restart',
    restartAfterMs: ctx.definition.database.failoverAfterMs + 1_500,
    probe: { kind: 'tcp' },
    stopGraceMs: 20_000,
    stage: 0,
  };
}

/** One-shot: creates a node's data directory (system tables only, nothing binlogged). */
export function dbInitCommand(ctx: SpecContext, node: DbNode): { command: string; args: string[] } {
  return {
    command: 'mariadb-install-db',
    // Root (and the OS user running the region, when not root) log in by unix_socket only: no
    // password root, no root@127.0.0.1 / ::1 / hostname accounts.
    args: [`--defaults-file=${dbCnfFile(ctx.paths, node)}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket', `--auth-root-socket-user=${adminSocketUser()}`],
  };
}

export function redisSpec(ctx: SpecContext, node: CacheNode): ProcessSpec {
  return {
    ...base(ctx, node.name),
    name: node.name, tier: 'cache', zone: node.zone, port: node.port,
    command: 'redis-server',
    args: [redisConfFile(ctx.paths, node)],
    // After Sentinel's failover (downAfterMs + its election, ~2.3 s here): it comes back as a replica.
    restartPolicy: 'restart',
    restartAfterMs: ctx.definition.cache.downAfterMs + 3_000,
    probe: { kind: 'tcp' },
    stopGraceMs: 5_000,
    stage: 0,
  };
}

export function sentinelSpec(ctx: SpecContext, s: SentinelNode): ProcessSpec {
  const f = sentinelConfFiles(ctx.paths, s);
  return {
    ...base(ctx, s.name),
    name: s.name, tier: 'sentinel', zone: s.zone, port: s.port,
    command: 'redis-sentinel',
    args: [f.live],
    copyBeforeStart: [[f.generated, f.live]],
    restartPolicy: 'restart',
    restartAfterMs: 1_000,
    probe: { kind: 'tcp' },
    stopGraceMs: 5_000,
    stage: 0,
  };
}

export function haproxySpec(ctx: SpecContext): ProcessSpec {
  return {
    ...base(ctx, 'lb'),
    name: 'lb', tier: 'lb', zone: null, port: ctx.definition.local.ports.lbStats,
    command: 'haproxy',
    // -db: foreground, no daemon; the supervisor owns it.
    args: ['-db', '-f', ctx.paths.haproxyConfig],
    restartPolicy: 'replace',
    probe: { kind: 'http', path: '/health' },
    stopGraceMs: 5_000,
    stage: 0,
  };
}

export function varnishSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'edge'),
    name: 'edge', tier: 'edge', zone: null, port: p.edge,
    command: 'varnishd',
    // Two listeners: the site, and purges (only the API instances' addresses may use it: see default.vcl).
    args: ['-F', '-a', `site=${ctx.definition.address}:${p.edge}`, '-a', `purge=${ctx.definition.address}:${p.edgePurge}`, '-T', `${ctx.definition.address}:${p.edgeAdmin}`, '-n', ctx.paths.varnishWorkdir,
      '-f', ctx.paths.varnishVcl, '-s', 'malloc,128m'],
    restartPolicy: 'replace',
    probe: { kind: 'http', path: '/_edge/health' },
    stopGraceMs: 5_000,
    stage: 0,
  };
}

/**
 * The edge's access log (with observability.console): varnishncsa reads Varnish's shared memory log and
 * writes one JSON line per client request to logs/edge-access.log, with the request id the edge gave it
 * (default.vcl), so the console's log search follows a request edge → LB → API. Port 0: it listens nowhere.
 */
export const EDGE_ACCESS_FORMAT = '{"ts":%{msec}t,"method":"%m","url":"%U%q","status":%s,"bytes":"%b","us":%D,"handling":"%{Varnish:handling}x","requestId":"%{X-Request-Id}o","client":"%h"}';

export function edgeAccessLogSpec(ctx: SpecContext): ProcessSpec {
  return {
    ...base(ctx, 'edge-access'),
    name: 'edge-access', tier: 'edge', zone: null, port: 0,
    command: 'varnishncsa',
    // -j: JSON-safe escaping of the values; -t off: wait for varnishd's log (and again after a restart).
    args: ['-n', ctx.paths.varnishWorkdir, '-t', 'off', '-j', '-F', EDGE_ACCESS_FORMAT],
    restartPolicy: 'replace',
    probe: { kind: 'alive' },
    stopGraceMs: 2_000,
    stage: 0,
  };
}

export function frontInstanceSpec(ctx: SpecContext, slot: InstanceSlot): ProcessSpec {
  const logs = logFile(ctx.paths, slot.name);
  return {
    ...base(ctx, slot.name),
    name: slot.name, tier: 'front', zone: slot.zone, port: slot.port, version: ctx.version,
    command: 'nginx',
    args: ['-p', nginxPrefix(ctx.paths, slot), '-e', logs, '-c', nginxConfFile(ctx.paths, slot, ctx.version)],
    restartPolicy: 'replace',
    probe: { kind: 'http', path: ctx.definition.front.healthCheck.path },
    stopGraceMs: 5_000,
    stage: 0,
  };
}

export function apiInstanceEnv(ctx: SpecContext, slot: InstanceSlot): Record<string, string> {
  const d = ctx.definition;
  const urls = databaseUrls(d, ctx.secrets);
  return apiEnvironment({
    databaseWriterUrl: urls.writer,
    databaseReaderUrl: urls.reader,
    // The app user is REQUIRE SSL: the API verifies MariaDB's certificate against the region's CA.
    databaseTlsCa: ctx.paths.tls.ca,
    cache: {
      kind: 'sentinel', sentinels: endpoints(d).redisSentinels, masterName: d.cacheMasterName,
      // The API's ACL user (its keys and commands only) and the Sentinels' password: environment, never argv.
      username: ctx.secrets.redisApiUser, password: ctx.secrets.redisApiPassword, sentinelPassword: ctx.secrets.sentinelPassword,
    },
    jwtSecret: ctx.secrets.jwtSecret,
    host: d.address,
    port: slot.port,
    publicUrl: `http://${d.address}:${d.local.ports.edge}`,
    instanceId: slot.name,
    zone: slot.zone,
    logLevel: 'info',
    // Every write purges what it changed at the edge before it is acknowledged.
    edgePurgeUrls: `http://${d.address}:${d.local.ports.edgePurge}`,
    corsAllowedOrigins: d.api.corsAllowedOrigins.join(','),
    dbRetryBudgetMs: d.database.clientRetryBudgetMs,
    // Varnish then HAProxy each append one X-Forwarded-For entry: the API reads the client IP that many hops in.
    trustedProxyHops: d.apiProxyChain.length,
    rateLimitAuthPerMin: d.api.rateLimits.authPerIpPerMinute,
    rateLimitLoginPerAccount: d.api.rateLimits.loginPerAccountPer15Min,
    rateLimitWritesPerMin: d.api.rateLimits.writesPerUserPerMinute,
    tokenLifetimeHours: d.api.auth.tokenLifetimeHours,
    recentSignInMinutes: d.api.auth.recentSignInMinutes,
    scryptN: d.api.auth.scrypt.N,
    scryptR: d.api.auth.scrypt.r,
    scryptP: d.api.auth.scrypt.p,
    heap: d.api.heap,
    // Only with a second region to fail over to: a writer failover inside the region must not move the site.
    ...(d.regions.secondary !== null ? { regionHealthGraceMs: d.local.regionFailoverAfterMs } : {}),
  });
}

export function apiInstanceSpec(ctx: SpecContext, slot: InstanceSlot): ProcessSpec {
  return {
    ...base(ctx, slot.name),
    name: slot.name, tier: 'api', zone: slot.zone, port: slot.port, version: ctx.version,
    // The release bundle with plain node, from its unpacked folder, as on an AWS instance.
    command: ctx.nodeBinary ?? process.execPath,
    args: [join(releaseTierDir(ctx.paths, ctx.version, 'api'), 'server.mjs')],
    env: apiInstanceEnv(ctx, slot),
    cwd: releaseTierDir(ctx.paths, ctx.version, 'api'),
    restartPolicy: 'replace',
    probe: { kind: 'http', path: ctx.definition.api.healthCheck.path },
    // api.drainSeconds: in-flight requests finish before SIGKILL.
    stopGraceMs: Math.max(ctx.definition.api.drainSeconds * 1000, 2_000),
    stage: 1,
  };
}

export function prometheusSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'prometheus'),
    name: 'prometheus', tier: 'monitoring', zone: null, port: p.prometheus,
    command: 'prometheus',
    args: [`--config.file=${ctx.paths.prometheusConfig}`, `--web.listen-address=${ctx.definition.address}:${p.prometheus}`,
      `--storage.tsdb.path=${join(ctx.paths.data, 'prometheus')}`, `--storage.tsdb.retention.time=${ctx.definition.observability.logRetentionDays}d`,
      `--storage.tsdb.retention.size=${ctx.definition.observability.metricsMaxMb}MB`],
    // No --web.enable-lifecycle: it lets any local user stop Prometheus (POST /-/quit); the supervisor restarts it instead.
    restartPolicy: 'replace',
    probe: { kind: 'http', path: '/-/ready' },
    stopGraceMs: 10_000,
    stage: 0,
  };
}

export function mysqldExporterSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'mysqld-exporter'),
    name: 'mysqld-exporter', tier: 'monitoring', zone: null, port: p.mysqldExporter,
    command: 'prometheus-mysqld-exporter',
    args: [`--config.my-cnf=${ctx.paths.mysqldExporterCnf}`, `--web.listen-address=${ctx.definition.address}:${p.mysqldExporter}`, '--collect.slave_status'],
    restartPolicy: 'replace',
    probe: { kind: 'tcp' },
    stopGraceMs: 3_000,
    // Its database user is created by the region bootstrap.
    stage: 1,
  };
}

export function redisExporterSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  const first = ctx.definition.cacheNodes[0]!;
  return {
    ...base(ctx, 'redis-exporter'),
    name: 'redis-exporter', tier: 'monitoring', zone: null, port: p.redisExporter,
    command: 'prometheus-redis-exporter',
    args: [`-web.listen-address=${ctx.definition.address}:${p.redisExporter}`, `-redis.addr=redis://${ctx.definition.address}:${first.port}`],
    // Its read-only ACL user; the password in the environment (never argv, which every local user can read).
    env: { REDIS_USER: 'exporter', REDIS_PASSWORD: ctx.secrets.redisExporterPassword },
    restartPolicy: 'replace',
    probe: { kind: 'tcp' },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

/** The ops console (packages/console): topology, charts, log search, alerts; it reads the state folder. */

export function consoleSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'console'),
    name: 'console', tier: 'monitoring', zone: null, port: p.console,
    command: ctx.nodeBinary ?? process.execPath,
    // The console sits beside the region it watches and must stay small (<= 100 MB RSS, measured in its
    // browser test): its minified bundle with plain node (no tsx), a small young generation, a capped heap,
    // and V8's interpreter only (--jitless: JIT code was ~15 MB; the console's work is light). DuckDB and
    // ELK run in short-lived children (packages/console/README.md).
    args: ['--max-semi-space-size=1', '--max-old-space-size=48', '--jitless', '--no-expose-wasm', '--optimize-for-size', consoleServerEntry, ctx.paths.root],
    cwd: repoRoot,
    restartPolicy: 'replace',
    probe: { kind: 'http', path: '/health' },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

export function alertmanagerSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'alertmanager'),
    name: 'alertmanager', tier: 'monitoring', zone: null, port: p.alertmanager,
    command: 'prometheus-alertmanager',
    // An empty cluster address turns gossip off: one Alertmanager, no extra port.
    args: [`--config.file=${ctx.paths.alertmanagerConfig}`, `--storage.path=${join(ctx.paths.data, 'alertmanager')}`,
      `--web.listen-address=${ctx.definition.address}:${p.alertmanager}`, '--cluster.listen-address='],
    restartPolicy: 'replace',
    probe: { kind: 'http', path: '/-/ready' },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

export function blackboxExporterSpec(ctx: SpecContext): ProcessSpec {
  const p = ctx.definition.local.ports;
  return {
    ...base(ctx, 'blackbox-exporter'),
    name: 'blackbox-exporter', tier: 'monitoring', zone: null, port: p.blackboxExporter,
    command: 'prometheus-blackbox-exporter',
    args: [`--config.file=${ctx.paths.blackboxConfig}`, `--web.listen-address=${ctx.definition.address}:${p.blackboxExporter}`],
    restartPolicy: 'replace',
    probe: { kind: 'tcp' },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

/**
 * This region's global DNS server (PowerDNS with the failover record), on the region's address. Route 53
 * belongs to no region and answers from many places; locally every region runs one, with the whole zone and
 * its own health checks, so losing either region leaves the name answered.
 */
export function dnsSpec(ctx: SpecContext): ProcessSpec {
  return {
    ...base(ctx, 'dns'),
    name: 'dns', tier: 'dns', zone: null, port: ctx.definition.local.ports.dns, host: ctx.definition.address,
    command: 'pdns_server',
    args: [`--config-dir=${ctx.paths.pdnsDir}`],
    restartPolicy: 'replace',
    // A question, not a TCP connect: the first one starts the record's health checks (PowerDNS checks on demand),
    // so they have run by the end of the start's warm-up (generators/pdns.ts, DNS_WARM_UP_S).
    probe: { kind: 'dns', name: ctx.definition.dnsName },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

/**
 * The region's object store: s3rver (npm, S3 API) on loopback, its data in the backup folder outside the
 * state folder, so destroying the region keeps its buckets. The backup code talks to it with the AWS SDK.
 */
export function objectStoreSpec(ctx: Pick<SpecContext, 'definition' | 'paths' | 'nodeBinary'>, backups: BackupPaths): ProcessSpec {
  const p = ctx.definition.local.ports;
  const bin = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
  return {
    ...base(ctx, 'object-store'),
    name: 'object-store', tier: 'backup', zone: null, port: p.objectStore,
    command: ctx.nodeBinary ?? process.execPath,
    args: ['--max-old-space-size=128', bin, '-d', backups.objectStore, '-a', ctx.definition.address, '-p', String(p.objectStore), '--silent', '--no-vhost-buckets'],
    restartPolicy: 'replace',
    probe: { kind: 'tcp' },
    stopGraceMs: 3_000,
    stage: 0,
  };
}

/**
 * The backup agent: archives the primary's binlogs every backup.archiveEverySeconds and takes a full
 * backup from a replica every backup.fullEveryHours (src/backup/agent.ts). Starts once replication is up.
 */
export function backupAgentSpec(ctx: SpecContext): ProcessSpec {
  return {
    ...base(ctx, 'backup-agent'),
    name: 'backup-agent', tier: 'backup', zone: null, port: ctx.definition.local.ports.objectStore,
    command: ctx.nodeBinary ?? process.execPath,
    // Its bundle, with plain node (bin/backup-agent.mjs): no tsx loader in a process that runs all day.
    args: ['--max-old-space-size=256', backupAgentEntry, ctx.paths.root],
    cwd: repoRoot,
    restartPolicy: 'replace',
    // Its health is the object store's: the agent itself listens on nothing (its passes are in its log).
    probe: { kind: 'tcp' },
    stopGraceMs: 5_000,
    stage: 1,
  };
}

/** Every process of a region at its desired size, in start order. */
export function regionSpecs(ctx: SpecContext): ProcessSpec[] {
  const d = ctx.definition;
  const specs = [
    ...d.dbNodes.map((n) => dbNodeSpec(ctx, n)),
    ...d.cacheNodes.map((n) => redisSpec(ctx, n)),
    ...d.sentinelNodes.map((s) => sentinelSpec(ctx, s)),
    haproxySpec(ctx),
    ...d.frontSlots.slice(0, d.front.instances.desired).map((s) => frontInstanceSpec(ctx, s)),
    varnishSpec(ctx),
    ...(d.observability.console ? [edgeAccessLogSpec(ctx)] : []),
    prometheusSpec(ctx),
    redisExporterSpec(ctx),
    ...d.apiSlots.slice(0, d.api.instances.desired).map((s) => apiInstanceSpec(ctx, s)),
    mysqldExporterSpec(ctx),
    ...(d.observability.console ? [alertmanagerSpec(ctx), blackboxExporterSpec(ctx), consoleSpec(ctx)] : []),
    ...(ctx.backups ? [objectStoreSpec(ctx, ctx.backups), backupAgentSpec(ctx)] : []),
    ...(runsDns(d) ? [dnsSpec(ctx)] : []),
  ];
  return specs.sort((a, b) => a.stage - b.stage);
}

/** `down` stops the entry points first and the data last. */
export const stopRank: Record<string, number> = { dns: 0, edge: 0, monitoring: 1, api: 2, front: 3, lb: 4, sentinel: 5, cache: 6, db: 7, backup: 1 };

/** Every loopback port `tier up` binds, with the component that binds it (for a clear "port taken" error). */
export function portClaims(d: ResolvedDefinition): Array<{ port: number; component: string; setting: string }> {
  const p = d.local.ports;
  const fixed: Array<[keyof typeof p, string]> = [
    ['edge', 'edge (Varnish)'], ['edgeAdmin', 'edge admin (Varnish -T)'], ['edgePurge', 'edge purges (Varnish)'], ['front', 'front load balancer (HAProxy)'],
    ['api', 'API load balancer (HAProxy)'], ['lbStats', 'HAProxy stats/metrics'], ['dbWriter', 'database writer endpoint (HAProxy)'],
    ['dbReader', 'database reader endpoint (HAProxy)'], ['prometheus', 'Prometheus'], ['mysqldExporter', 'MariaDB exporter'],
    ['redisExporter', 'Redis exporter'],
    ...(d.observability.console ? [['console', 'ops console'], ['alertmanager', 'Alertmanager'], ['blackboxExporter', 'blackbox exporter']] as Array<[keyof typeof p, string]> : []),
    ['objectStore', 'object store (s3rver)'],
    ...(runsDns(d) ? [['dns', 'the global DNS server (PowerDNS)']] as Array<[keyof typeof p, string]> : []),
  ];
  return [
    ...fixed.map(([k, component]) => ({ port: p[k], component, setting: `local.ports.${k}` })),
    ...d.frontSlots.slice(0, d.front.instances.desired).map((s) => ({ port: s.port, component: `${s.name} (front instance)`, setting: 'local.ports.frontInstancesBase' })),
    ...d.apiSlots.slice(0, d.api.instances.desired).map((s) => ({ port: s.port, component: `${s.name} (API instance)`, setting: 'local.ports.apiInstancesBase' })),
    ...d.dbNodes.map((n) => ({ port: n.port, component: `${n.name} (MariaDB)`, setting: 'local.ports.dbNodesBase' })),
    ...d.cacheNodes.map((n) => ({ port: n.port, component: `${n.name} (Redis)`, setting: 'local.ports.redisBase' })),
    ...d.sentinelNodes.map((n) => ({ port: n.port, component: `${n.name} (Redis Sentinel)`, setting: 'local.ports.sentinelBase' })),
  ];
}

