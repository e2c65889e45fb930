// Two regions, as data: the secondary's generated configs bind its own address on the same ports, the
// standby's primary replicates from the primary region's writer without semi-sync, the global DNS zone and
// the region failover controller's decisions. Pure: nothing starts here (the drills project runs the
// two regions and the region-loss drill: packages/drills/test/regions.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regionDefinition, resolve } from '@conduit/definition';
import {
  dnsServers, gtidDistance, haproxyConfig, portClaims, initialTopology, localRegions, mariadbCnf, pdnsConf, pdnsNamedConf, pdnsZone, redisConf, regionSpecs, replicationSteps,
  repoRoot, sentinelConf, statePaths, varnishVcl, formatRegionsLines,
} from '../src/index.js';
import { decideRegion, type RegionMemory, type RegionPolicy } from '../src/controllers/region-failover-decide.js';
import { initialRole } from '../src/region/regions.js';
import { createRegionFailoverController } from '../src/controllers/region-failover.js';
import { readRegionRole, writeRegionRole } from '../src/state.js';

const d = resolve({});
const s = regionDefinition(d, 'secondary');
const paths = statePaths('/tmp/conduit-regions-test/secondary');
const secrets = { jwtSecret: 'x'.repeat(40), appUser: 'app', appPassword: 'a', replUser: 'repl', replPassword: 'r', exporterUser: 'exporter', exporterPassword: 'e', adminUser: 'admin', adminPassword: 'd', redisAdminPassword: 'radm', redisApiUser: 'conduit-api', redisApiPassword: 'rapi', redisReplicaPassword: 'rrep', redisSentinelPassword: 'rsen', redisExporterPassword: 'rexp', sentinelPassword: 'spw' };
const scratch = join(repoRoot, '.test-state', 'local-regions-unit');
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the secondary region binds its own address on the same ports', () => {
  it('in HAProxy, MariaDB, Redis, Sentinel and Varnish', () => {
    const cfg = haproxyConfig({ definition: s, paths, topology: initialTopology(s) });
    expect(cfg).toContain(`bind 127.0.2.1:${d.local.ports.front}`);
    expect(cfg).toContain(`server db-a 127.0.2.1:${d.local.ports.dbNodesBase} check`);
    expect(cfg).not.toContain('127.0.0.1:');
    expect(mariadbCnf(s, s.dbNodes[0]!, paths)).toContain('bind-address=127.0.2.1');
    expect(mariadbCnf(s, s.dbNodes[0]!, paths)).toContain('server_id=101');
    expect(redisConf(s, s.cacheNodes[1]!, paths, secrets)).toContain(`replicaof 127.0.2.1 ${s.cacheNodes[0]!.port}`);
    expect(sentinelConf(s, s.sentinelNodes[0]!, paths, secrets)).toContain(`sentinel monitor conduit-cache 127.0.2.1 ${s.cacheNodes[0]!.port} 2`);
    expect(varnishVcl(s)).toContain('.host = "127.0.2.1";');
  });

  it('labels every process with its region and runs a global DNS server in each region, on its address', () => {
    const ctx = (def: typeof d) => ({ definition: def, paths, secrets, version: 'v1', tsxLoader: 'tsx' });
    const sec = regionSpecs(ctx(s));
    expect(new Set(sec.map((p) => p.region))).toEqual(new Set(['eu-central-1']));
    expect(sec.every((p) => p.host === '127.0.2.1')).toBe(true);
    expect(sec.find((p) => p.name === 'dns')).toMatchObject({ host: '127.0.2.1', port: d.local.ports.dns, command: 'pdns_server' });
    expect(regionSpecs(ctx(d)).find((p) => p.name === 'dns')).toMatchObject({ host: '127.0.0.1', port: d.local.ports.dns });
    expect(portClaims(d)).toContainEqual({ port: d.local.ports.dns, component: 'the global DNS server (PowerDNS)', setting: 'local.ports.dns' });
    expect(dnsServers(d)).toEqual([`127.0.0.1:${d.local.ports.dns}`, `127.0.2.1:${d.local.ports.dns}`]);
    // One region: no failover record, no DNS server.
    const one = resolve({ regions: { secondary: null }, backup: { copyToSecondary: false } });
    expect(regionSpecs(ctx(one)).some((p) => p.tier === 'dns')).toBe(false);
    expect(dnsServers(one)).toEqual([]);
  });

  it('lists the secondary in <state>/secondary only when it runs', () => {
    expect(localRegions(d, '/tmp/x').map((r) => [r.role, r.stateDir, r.definition.address])).toEqual([
      ['primary', '/tmp/x', '127.0.0.1'], ['secondary', '/tmp/x/secondary', '127.0.2.1'],
    ]);
    expect(localRegions(resolve({ local: { runSecondary: false } }), '/tmp/x')).toHaveLength(1);
  });
});

describe('cross-region replication', () => {
  const regions = localRegions(d, '/tmp/x');
  const role = initialRole(regions[1]!, regions, new Date(0));
  it('the standby replicates from the primary region\'s writer endpoint', () => {
    expect(role).toMatchObject({ role: 'standby', upstream: { host: '127.0.0.1', port: d.local.ports.dbWriter }, peerStateDir: '/tmp/x', cacheGeneration: 1 });
    expect(initialRole(regions[0]!, regions).role).toBe('primary');
  });
  it('asynchronously, read-only, its own replicas from it in the region', () => {
    const steps = replicationSteps(s, initialTopology(s), secrets, 'host', role.upstream);
    const primary = steps.find((x) => x.kind === 'primary')!;
    expect(primary.sql).toEqual([
      'SET GLOBAL read_only = ON', 'STOP SLAVE', 'SET GLOBAL rpl_semi_sync_master_enabled = OFF', 'SET GLOBAL rpl_semi_sync_slave_enabled = OFF',
      `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${d.local.ports.dbWriter}, MASTER_USER = 'repl', MASTER_PASSWORD = 'r', MASTER_USE_GTID = slave_pos, MASTER_DEMOTE_TO_SLAVE = 1, MASTER_CONNECT_RETRY = 1`,
      'START SLAVE',
    ]);
    // No CREATE DATABASE: the schema arrives by replication.
    expect(steps.flatMap((x) => x.sql).some((q) => q.startsWith('CREATE DATABASE'))).toBe(false);
    const replica = steps.find((x) => x.kind === 'replica')!;
    expect(replica.sql.join('\n')).toContain(`MASTER_HOST = '127.0.2.1', MASTER_PORT = ${s.dbNodes[0]!.port}`);
  });
  it('counts the GTID distance per domain', () => {
    expect(gtidDistance('0-1-120', '0-1-100')).toBe(20);
    expect(gtidDistance('0-1-120,1-5-7', '0-1-120')).toBe(7);
    expect(gtidDistance('0-1-100', '0-1-120')).toBe(0);
  });
  it('prints lag, GTID distance and the DNS answer', () => {
    const lines = formatRegionsLines({
      regions: [], healthy: true,
      crossRegion: { writerRegion: 'eu-west-1', standbyRegion: 'eu-central-1', lagSeconds: 0, gtidDistance: 3, writerGtid: '0-1-10', standbyGtid: '0-1-7', replicating: true, error: null },
      dns: { name: 'www.conduit.test', servers: ['127.0.0.1:8053', '127.0.2.1:8053'], silent: ['127.0.0.1:8053'], addresses: ['127.0.2.1'], ttl: 5, region: 'eu-central-1', error: null, dig: 'dig @127.0.2.1 -p 8053 www.conduit.test' },
    });
    expect(lines[0]).toBe('cross-region: eu-central-1 replicates from eu-west-1 (asynchronous), running, lag 0 s, GTID distance 3 (writer 0-1-10, standby 0-1-7)');
    expect(lines[1]).toBe('DNS: www.conduit.test → 127.0.2.1 (eu-central-1, TTL 5 s) from 127.0.0.1:8053 and 127.0.2.1:8053; no answer from 127.0.0.1:8053   (`dig @127.0.2.1 -p 8053 www.conduit.test`)');
  });
});

describe('the global DNS zone (PowerDNS, LUA failover record)', () => {
  it('answers the primary while its health URL is up, else the secondary, with the definition\'s TTL', () => {
    const zone = pdnsZone(d, Date.UTC(2026, 10, 30, 8, 0, 0, 400));
    // SERVFAIL until 3 s after the start (rounded up): a server that has not checked yet answers at random.
    const warmUntil = Date.UTC(2026, 10, 30, 8, 0, 1) / 1000 + 3;
    expect(zone).toContain(`www 5 IN LUA A ";local r = ifurlup('http://www.conduit.test:${d.local.ports.edge}/health/region', {{'127.0.0.1'}, {'127.0.2.1'}}, {timeout=1}) if os.time() < ${warmUntil} then error('health checks warming up') end return r"`);
    const conf = pdnsConf(d, { dir: '/c', socketDir: '/r' });
    for (const line of ['enable-lua-records=yes', 'lua-health-checks-interval=1', 'cache-ttl=0', 'query-cache-ttl=0', `local-port=${d.local.ports.dns}`, 'local-address=127.0.0.1']) expect(conf).toContain(line);
    // Each region's server on its own address, both named in the zone.
    expect(pdnsConf(s, { dir: '/c', socketDir: '/r' })).toContain('local-address=127.0.2.1');
    expect(zone).toContain('@ 3600 IN NS ns1.conduit.test.\n@ 3600 IN NS ns2.conduit.test.\nns1 3600 IN A 127.0.0.1\nns2 3600 IN A 127.0.2.1');
    expect(pdnsZone(s, Date.UTC(2026, 10, 30, 8, 0, 0, 400))).toBe(zone);
    expect(pdnsNamedConf(d, { dir: '/c', socketDir: '/r' })).toContain('zone "conduit.test" { type master; file "/c/zone.db"; };');
  });
  it('is a zone PowerDNS accepts (pdnsutil check-zone)', () => {
    const dir = join(scratch, 'pdns');
    mkdirSync(dir, { recursive: true });
    const f = { dir, socketDir: dir };
    writeFileSync(join(dir, 'pdns.conf'), pdnsConf(d, f));
    writeFileSync(join(dir, 'named.conf'), pdnsNamedConf(d, f));
    writeFileSync(join(dir, 'zone.db'), pdnsZone(d));
    const out = execFileSync('pdnsutil', [`--config-dir=${dir}`, 'check-zone', 'conduit.test'], { encoding: 'utf8' });
    expect(out).toMatch(/Checked \d+ records of 'conduit.test', 0 errors, 0 warnings/);
  });
  it('routes the health path to the API, never cached', () => {
    expect(varnishVcl(d)).toContain('if (req.url == "/health/region") {\n        set req.url = "/health/region";\n        set req.backend_hint = api;\n        return (pass);');
  });
});

describe('the region failover decision', () => {
  const policy: RegionPolicy = { failoverAfterMs: 4000, mode: 'automatic', regionName: 'eu-central-1', peerName: 'eu-west-1' };
  const fresh: RegionMemory = { unhealthySince: null, reported: false };
  const down = (now: number) => ({ now, role: 'standby' as const, peerHealthy: false, peerError: 'ECONNREFUSED' });
  it('notes the first failed check, waits the threshold, then promotes once', () => {
    const a = decideRegion(down(1000), policy, fresh);
    expect(a.decision).toEqual({ kind: 'note', sentence: 'eu-west-1 failed its region health check (ECONNREFUSED): eu-central-1 takes over if it lasts 4.0 s' });
    const b = decideRegion(down(3000), policy, a.memory);
    expect(b.decision.kind).toBe('none');
    const c = decideRegion(down(5000), policy, b.memory);
    expect(c.decision).toEqual({ kind: 'promote', unhealthyMs: 4000, sentence: 'promote eu-central-1: eu-west-1 failed its region health check for 4.0 s (ECONNREFUSED), threshold 4.0 s' });
  });
  it('a short outage (an in-region failover) moves nothing', () => {
    const a = decideRegion(down(1000), policy, fresh);
    const b = decideRegion({ now: 2500, role: 'standby', peerHealthy: true, peerError: null }, policy, a.memory);
    expect(b.decision).toEqual({ kind: 'note', sentence: 'eu-west-1 is healthy again after 1.5 s: no region failover (threshold 4.0 s)' });
    expect(b.memory).toEqual(fresh);
  });
  it('manual mode says what to run, once; the writer region decides nothing', () => {
    const m = { ...policy, mode: 'manual' as const };
    const a = decideRegion(down(0), m, fresh);
    const b = decideRegion(down(5000), m, a.memory);
    expect(b.decision.kind).toBe('await-operator');
    expect(decideRegion(down(9000), m, b.memory).decision.kind).toBe('none');
    expect(decideRegion({ ...down(9000), role: 'primary' }, policy, a.memory).decision.kind).toBe('none');
  });
});

describe('the region failover controller (no region behind it)', () => {
  /** A controller in the secondary region whose peer's health URL refuses connections (nothing listens there). */
  const standbyController = (name: string) => {
    const root = join(scratch, name);
    rmSync(root, { recursive: true, force: true });
    const sd = regionDefinition(resolve({ local: { regionFailoverAfterMs: 1000, ports: { edge: 30998 } } }), 'secondary');
    const p = statePaths(root);
    mkdirSync(p.root, { recursive: true });
    const c = createRegionFailoverController({ definition: sd, paths: p });
    return { p, c };
  };

  it('in a standby, notes the failed check, then tries to promote and says why it could not', async () => {
    const { p, c } = standbyController('controller');
    expect(await c.tick(0)).toBeNull(); // no role file: not part of two regions
    writeRegionRole(p, { role: 'standby', upstream: { host: '127.0.0.1', port: 30999 }, peerStateDir: join(scratch, 'no-peer'), cacheGeneration: 1, updatedAt: '', why: 'test' });
    expect(await c.tick(1000)).toBe('eu-west-1 failed its region health check (ECONNREFUSED): eu-central-1 takes over if it lasts 1.0 s');
    expect(await c.tick(1500)).toBeNull();
    expect(await c.tick(2100)).toMatch(/^region promotion of eu-central-1 failed: .*db-topology.json missing: the region was never brought up \(the next tick tries again\)$/);
    const journal = readFileSync(p.regionFailoverJournal, 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(journal).toEqual(['detected', 'decided', 'promote-failed']);
    expect(readRegionRole(p)?.role).toBe('standby');
  });

  it('a standby again counts a new outage (no promotion from one seen before it was the writer); a fenced region never promotes itself', async () => {
    const { p, c } = standbyController('controller-fenced');
    const role = { upstream: { host: '127.0.0.1', port: 30999 }, peerStateDir: join(scratch, 'no-peer'), cacheGeneration: 1, updatedAt: '', why: 'test' };
    writeRegionRole(p, { ...role, role: 'standby' });
    expect(await c.tick(1000)).toMatch(/takes over if it lasts 1\.0 s$/);
    // Promoted (here: by an operator), then made standby again by a switchover minutes later.
    writeRegionRole(p, { ...role, role: 'primary', upstream: null });
    expect(await c.tick(1500)).toBeNull();
    writeRegionRole(p, { ...role, role: 'standby', why: 'planned switchover to eu-west-1' });
    // The other region is still opening for writes: its health URL fails for a moment. A new outage, not a promotion.
    expect(await c.tick(300_000)).toMatch(/takes over if it lasts 1\.0 s$/);
    expect(await c.tick(300_500)).toBeNull();
    // Fenced by the other region's failover: however long the other region fails, this one waits for its rejoin.
    writeRegionRole(p, { ...role, role: 'standby', why: 'fenced by the region failover of eu-west-1' });
    expect(await c.tick(301_000)).toBeNull();
    expect(await c.tick(400_000)).toBeNull();
    expect(readFileSync(p.regionFailoverJournal, 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind)).toEqual(['detected', 'detected']);
  });
});
