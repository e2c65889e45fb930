// Steps as data: process specs and the replication bootstrap, checked without starting anything.
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { dbInitCommand, regionSpecs, apiInstanceEnv, portClaims, replicationSteps, reconcileTopology, initialTopology, statePaths } from '../src/index.js';
import small from './fixtures/small.config.ts';
import { restartDelayMs } from '../src/supervisor/supervisor.js';

const d = resolve(small);
const paths = statePaths('/tmp/conduit-cmd-test');
const secrets = { jwtSecret: 'j'.repeat(48), appUser: 'app', appPassword: 'p@ss', replUser: 'repl', replPassword: 'r', exporterUser: 'exporter', exporterPassword: 'e', adminUser: 'admin', adminPassword: 'ad', redisAdminPassword: 'radm', redisApiUser: 'conduit-api', redisApiPassword: 'rapi', redisReplicaPassword: 'rrep', redisSentinelPassword: 'rsen', redisExporterPassword: 'rexp', sentinelPassword: 'spw' };
const ctx = { definition: d, paths, secrets, version: 'v1', tsxLoader: '/tsx' };

describe('process specs', () => {
  const specs = regionSpecs(ctx);
  it('run every component of the small region, labelled with tier and zone', () => {
    expect(specs.map((s) => s.name)).toEqual([
      'db-a', 'db-b', 'redis-1', 'redis-2', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'lb', 'front-1', 'front-2', 'edge',
      'prometheus', 'redis-exporter', 'api-1', 'api-2', 'mysqld-exporter',
    ]);
    expect(specs.find((s) => s.name === 'api-2')).toMatchObject({ tier: 'api', zone: 'b', port: 21201, stage: 1 });
    expect(specs.find((s) => s.name === 'front-1')).toMatchObject({ tier: 'front', zone: 'a', command: 'nginx', version: 'v1' });
  });
  it('run the installed release: the API bundle with plain node, the front with the release\'s nginx.conf', () => {
    const api = specs.find((s) => s.name === 'api-1')!;
    expect(api).toMatchObject({ command: process.execPath, args: [`${paths.releases}/v1/api/server.mjs`], cwd: `${paths.releases}/v1/api`, version: 'v1' });
    expect(api.args.join(' ')).not.toContain('tsx');
    expect(specs.find((s) => s.name === 'front-2')!.args).toContain(`${paths.releases}/v1/local-nginx/front-2.conf`);
  });
  it('replace crashed API, front and LB processes; restart data nodes in place once failover had time to act', () => {
    const policy = Object.fromEntries(specs.map((s) => [s.name, s.restartPolicy]));
    expect(policy).toMatchObject({ 'api-1': 'replace', 'front-2': 'replace', lb: 'replace', edge: 'replace', 'db-a': 'restart', 'redis-1': 'restart', 'sentinel-1': 'restart' });
    const after = Object.fromEntries(specs.filter((s) => s.restartPolicy === 'restart').map((s) => [s.name, s.restartAfterMs]));
    // database.failoverAfterMs + 1.5 s; cache.downAfterMs + 3 s (after Sentinel's failover); 1 s for a Sentinel
    expect(after).toMatchObject({ 'db-a': d.database.failoverAfterMs + 1_500, 'redis-1': d.cache.downAfterMs + 3_000, 'sentinel-1': 1_000 });
    expect([1, 2, 3, 10].map((n) => restartDelayMs(2_500, n))).toEqual([2_500, 5_000, 10_000, 30_000]);
  });
  it('give the API the writer/reader endpoints, Sentinels and its identity', () => {
    const env = apiInstanceEnv(ctx, d.apiSlots[1]!);
    expect(env).toMatchObject({
      DATABASE_WRITER_URL: 'mysql://app:p%40ss@127.0.0.1:21306/conduit',
      DATABASE_READER_URL: 'mysql://app:p%40ss@127.0.0.1:21307/conduit',
      // The app user is REQUIRE SSL: the API verifies MariaDB against the region's CA.
      DATABASE_TLS_CA: paths.tls.ca,
      REDIS_SENTINELS: '127.0.0.1:21389,127.0.0.1:21390,127.0.0.1:21391',
      REDIS_MASTER_NAME: 'conduit-test-cache',
      PORT: '21201', INSTANCE_ID: 'api-2', ZONE: 'b', HOST: '127.0.0.1', PUBLIC_URL: 'http://127.0.0.1:21080',
      // Purges go to the edge's purge listener; CORS origins come from api.corsAllowedOrigins.
      EDGE_PURGE_URLS: 'http://127.0.0.1:21082',
      CORS_ALLOWED_ORIGINS: '*',
      // api.heap: node reads its heap limits from the environment, whatever starts it.
      NODE_OPTIONS: `--max-old-space-size=${d.api.heap.maxOldSpaceMb} --max-semi-space-size=${d.api.heap.maxSemiSpaceMb}`,
      MALLOC_ARENA_MAX: String(d.api.heap.mallocArenas),
    });
  });
  it('give the edge a site listener and a purge listener', () => {
    const edge = specs.find((s) => s.name === 'edge')!;
    expect(edge.args.join(' ')).toContain('-a site=127.0.0.1:21080 -a purge=127.0.0.1:21082');
    expect(portClaims(d)).toContainEqual({ port: 21082, component: 'edge purges (Varnish)', setting: 'local.ports.edgePurge' });
  });
  it('copy the Sentinel config fresh before each start (Sentinel rewrites it)', () => {
    const s = specs.find((x) => x.name === 'sentinel-2')!;
    // The live copy in its data folder (mode 700): Sentinel's rewrite makes it mode 644, and it holds passwords.
    expect(s.copyBeforeStart).toEqual([[`${paths.config}/sentinel-2.conf`, `${paths.data}/sentinel-2/sentinel.conf`]]);
    expect(s.args).toEqual([`${paths.data}/sentinel-2/sentinel.conf`]);
  });
  it('Prometheus runs without its lifecycle API (any local user could stop it with POST /-/quit)', () => {
    const p = regionSpecs(ctx).find((x) => x.name === 'prometheus')!;
    expect(p.args.some((a) => a.includes('lifecycle'))).toBe(false);
  });
  it('Prometheus keeps at most observability.metricsMaxMb and logRetentionDays of metrics', () => {
    const p = regionSpecs(ctx).find((x) => x.name === 'prometheus')!;
    expect(p.args).toContain(`--storage.tsdb.retention.size=${d.observability.metricsMaxMb}MB`);
    expect(p.args).toContain(`--storage.tsdb.retention.time=${d.observability.logRetentionDays}d`);
  });
  it('MariaDB data dirs get root by unix socket only', () => {
    const init = dbInitCommand(ctx, d.dbNodes[0]!);
    expect(init.args).toContain('--auth-root-authentication-method=socket');
    expect(init.args.join(' ')).not.toContain('normal');
  });
  it('claim every port with the component and setting to name in an error', () => {
    expect(portClaims(d)).toContainEqual({ port: 21080, component: 'edge (Varnish)', setting: 'local.ports.edge' });
    expect(portClaims(d)).toContainEqual({ port: 21311, component: 'db-b (MariaDB)', setting: 'local.ports.dbNodesBase' });
  });
});

describe('replication bootstrap', () => {
  const steps = replicationSteps(d, initialTopology(d), secrets, 'box');
  it('creates users on every node without binlogging them', () => {
    const users = steps.filter((s) => s.kind === 'users');
    expect(users.map((s) => s.node)).toEqual(['db-a', 'db-b']);
    for (const s of users) {
      expect(s.sql[0]).toBe('SET SESSION sql_log_bin=0');
      expect(s.sql.join('\n')).toContain("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
      // TLS is required of the app user only (as on Aurora); replication and the exporter stay plain.
      expect(s.sql).toContain("CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 'p@ss' REQUIRE SSL");
      expect(s.sql).toContain("ALTER USER 'app'@'127.0.0.1' IDENTIFIED BY 'p@ss' REQUIRE SSL");
      expect(s.sql.filter((q) => q.includes('REQUIRE SSL'))).toHaveLength(2);
    }
  });
  it('root by unix socket only, other root and anonymous accounts dropped, an admin user with the controller\'s privileges only', () => {
    for (const s of steps.filter((x) => x.kind === 'users')) {
      expect(s.sql).toContain("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket");
      const drop = s.sql.find((q) => q.startsWith('DROP USER IF EXISTS'))!;
      for (const acct of ["'root'@'127.0.0.1'", "'root'@'::1'", "'root'@'%'", "'root'@'box'", "''@'localhost'", "''@'box'"]) expect(drop).toContain(acct);
      expect(drop).not.toContain("'root'@'localhost'");
      // Socket only ('localhost'), never a TCP host.
      expect(s.sql).toContain("CREATE USER IF NOT EXISTS 'admin'@'localhost' IDENTIFIED BY 'ad'");
      const grant = s.sql.find((q) => q.includes("TO 'admin'@"))!;
      expect(grant).toMatch(/^GRANT READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, .* ON \*\.\* TO 'admin'@'localhost'$/);
      expect(grant).not.toMatch(/ALL|SUPER|CREATE USER|SELECT/);
      expect(s.sql).toContain("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON `conduit`.* TO 'app'@'127.0.0.1'");
      expect(s.sql.join('\n')).not.toMatch(/GRANT ALL/);
      // The exporter sees status, not tables (SELECT on *.* would include the password hashes).
      expect(s.sql).toContain("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'exporter'@'127.0.0.1'");
      expect(s.sql.join('\n')).not.toMatch(/SELECT ON \*\.\* TO 'exporter'/);
    }
  });
  it('opens writes and semi-sync on the primary only', () => {
    const primary = steps.find((s) => s.kind === 'primary' && s.node === 'db-a')!;
    expect(primary.sql).toContain('SET GLOBAL read_only = OFF');
    expect(primary.sql).toContain('SET GLOBAL rpl_semi_sync_master_enabled = ON');
    const replica = steps.find((s) => s.kind === 'replica' && s.node === 'db-b')!;
    expect(replica.sql).toContain('SET GLOBAL read_only = ON');
    expect(replica.sql).toContain('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    expect(replica.sql.join('\n')).toMatch(/CHANGE MASTER TO MASTER_HOST = '127\.0\.0\.1', MASTER_PORT = 21310, .*MASTER_USE_GTID = slave_pos, MASTER_DEMOTE_TO_SLAVE = 1/);
  });
  it('keeps a primary chosen by the failover controller across restarts', () => {
    const t = reconcileTopology(d, { primary: 'db-b', replicas: ['db-a'], updatedAt: 'x' });
    expect(t).toMatchObject({ primary: 'db-b', replicas: ['db-a'] });
    expect(reconcileTopology(d, { primary: 'db-z', replicas: [], updatedAt: 'x' }).primary).toBe('db-a');
  });
});
