// Generators are pure: definition → text. These tests read the text, then let each real binary
// check it (haproxy -c, varnishd -C, nginx -t, promtool), which takes milliseconds.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheAclRules, resolve } from '@conduit/definition';
import {
  haproxyConfig, varnishVcl, mariadbCnf, redisConf, sentinelConf, prometheusConfig, prometheusRules, apiTargets, nginxConf, mysqldExporterCnf,
  initialTopology, statePaths, repoRoot,
} from '../src/index.js';
import small from './fixtures/small.config.ts';

const d = resolve(small);
const defaults = resolve({});
const paths = statePaths('/tmp/conduit-gen-test');
const topology = initialTopology(d);
const secrets = { jwtSecret: 'x'.repeat(40), appUser: 'app', appPassword: 'a', replUser: 'repl', replPassword: 'r', exporterUser: 'exporter', exporterPassword: 'e', adminUser: 'admin', adminPassword: 'ad', redisAdminPassword: 'radm', redisApiUser: 'conduit-api', redisApiPassword: 'rapi', redisReplicaPassword: 'rrep', redisSentinelPassword: 'rsen', redisExporterPassword: 'rexp', sentinelPassword: 'spw' };
const scratch = join(repoRoot, '.test-state', 'local-generators');
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const section = (text: string, header: string) => {
  const start = text.indexOf(`\n${header}\n`);
  const rest = text.slice(start + header.length + 2);
  const end = rest.search(/\n(frontend|backend|global|defaults) /);
  return end < 0 ? rest : rest.slice(0, end);
};

describe('haproxy.cfg', () => {
  const cfg = haproxyConfig({ definition: d, paths, topology });

  it('lists every db node in the writer backend by name, only the primary enabled', () => {
    const writer = section(cfg, 'backend be_db_writer');
    expect(writer).toMatch(/server db-a 127\.0\.0\.1:21310 check {2}#/);
    expect(writer).toMatch(/server db-b 127\.0\.0\.1:21311 check disabled/);
  });

  it('balances the reader over the replicas, the primary as backup', () => {
    const reader = section(cfg, 'backend be_db_reader');
    expect(reader).toMatch(/server db-b 127\.0\.0\.1:21311 check {2}#/);
    expect(reader).toMatch(/server db-a 127\.0\.0\.1:21310 check backup/);
  });

  it('follows a topology changed by the failover controller', () => {
    const after = haproxyConfig({ definition: d, paths, topology: { primary: 'db-b', replicas: ['db-a'], updatedAt: '' } });
    expect(section(after, 'backend be_db_writer')).toMatch(/server db-b \S+ check {2}#/);
    expect(section(after, 'backend be_db_writer')).toMatch(/server db-a \S+ check disabled/);
    expect(section(after, 'backend be_db_reader')).toMatch(/server db-b \S+ check backup/);
  });

  it('health-checks the API on its liveness path, as the AWS target group does, and retries only what is safe', () => {
    const api = section(cfg, 'backend be_api');
    // Not readiness (/health/ready, the writer answers): a database failover would take every instance out at once.
    expect(api).toContain('option httpchk GET /health/live');
    expect(api).not.toContain('/health/ready');
    expect(api).toContain('balance roundrobin');
    expect(api).toContain('retry-on all-retryable-errors');
    expect(api).toContain('http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS');
    expect(api).toMatch(/server api-1 127\.0\.0\.1:21200 check {2}# zone a/);
    expect(api).toMatch(/server api-2 127\.0\.0\.1:21201 check {2}# zone b/);
    // Spare slot up to max: declared, disabled until the autoscaler enables it.
    expect(api).toMatch(/server api-3 127\.0\.0\.1:21202 check disabled/);
  });

  it('enables exactly the running instances when regenerated for a replacement HAProxy', () => {
    const after = haproxyConfig({ definition: d, paths, topology, activeInstances: ['api-1', 'api-3', 'front-2'] });
    const api = section(after, 'backend be_api');
    expect(api).toMatch(/server api-1 \S+ check {2}#/);
    expect(api).toMatch(/server api-2 \S+ check disabled/);
    expect(api).toMatch(/server api-3 \S+ check {2}#/);
    expect(section(after, 'backend be_front')).toMatch(/server front-1 \S+ check disabled/);
  });

  it('enables the runtime API at admin level and the Prometheus exporter', () => {
    expect(cfg).toContain(`stats socket ${paths.haproxySocket} mode 600 level admin`);
    expect(cfg).toContain('http-request use-service prometheus-exporter if { path /metrics }');
  });

  it('is accepted by haproxy -c', () => {
    const file = join(scratch, 'haproxy.cfg');
    writeFileSync(file, haproxyConfig({ definition: defaults, paths: { haproxySocket: join(scratch, 'h.sock') }, topology: initialTopology(defaults), runAs: 'haproxy' }));
    const out = execFileSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('Configuration file is valid');
  });

  it('drops to an unprivileged user when told (the region runs as root); the stats page cannot change servers', () => {
    expect(cfg).not.toMatch(/^\s+user /m);
    const dropping = haproxyConfig({ definition: d, paths, topology, runAs: 'haproxy' });
    expect(section(dropping, 'global')).toMatch(/^ {4}user haproxy\n {4}group haproxy$/m);
    expect(section(dropping, 'frontend stats')).not.toContain('stats admin');
  });
});

describe('default.vcl', () => {
  const vcl = varnishVcl(d);
  it('passes writes and authenticated reads to the API tier', () => {
    expect(vcl).toMatch(/if \(req\.method != "GET" && req\.method != "HEAD"\) \{\s+return \(pass\);/);
    expect(vcl).toMatch(/if \(req\.http\.Authorization \|\| req\.http\.Cookie\) \{\s+return \(pass\);/);
    expect(vcl).toContain('.port = "21091"');
    expect(vcl).toContain('.port = "21090"');
  });
  it('caches hashed assets for edge.assetMaxAgeSeconds and anonymous API reads briefly', () => {
    expect(vcl).toContain('set beresp.ttl = 31536000s;');
    // A 404 for an asset is never kept: it may exist on the next instance during a rolling deploy.
    expect(vcl).toMatch(/if \(bereq\.url ~ "\^\/assets\/"\) \{\s+if \(beresp\.status == 200\) \{[\s\S]*?set beresp\.uncacheable = true;/);
    expect(vcl).toContain('if (!beresp.http.Cache-Control || beresp.ttl > 5s) {\n            set beresp.ttl = 5s;');
  });
  it('purges by surrogate key, only on the purge listener and only from the API instances', () => {
    expect(vcl).toContain('import xkey;');
    expect(vcl).toMatch(/acl purgers \{\s+"127\.0\.0\.1";\s+\}/);
    expect(vcl).toMatch(/if \(local\.socket == "purge"\) \{\s+if \(client\.ip !~ purgers\) \{\s+return \(synth\(403/);
    expect(vcl).toContain('set req.http.X-Purged = xkey.purge(req.http.xkey-purge);');
    // PURGE through the site is refused; the API's Surrogate-Key header becomes the object's xkey.
    expect(vcl).toMatch(/if \(req\.method == "PURGE"\) \{\s+return \(synth\(405/);
    expect(vcl).toContain('set beresp.http.xkey = beresp.http.Surrogate-Key;');
  });
  it('keeps only API reads a write can purge, and no fill that raced with a purge', () => {
    expect(vcl).toMatch(/if \(bereq\.method != "OPTIONS" && !beresp\.http\.Surrogate-Key\) \{\s+set beresp\.uncacheable = true;/);
    expect(vcl).toMatch(/if \(std\.real\(var\.global_get\("purged_at"\), 0\.0\) >= std\.real\(bereq\.http\.X-Edge-Fetch-Start, 0\.0\)\) \{\s+set beresp\.uncacheable = true;/);
  });
  it('caches CORS preflights per origin, method and headers, fetched as OPTIONS', () => {
    expect(vcl).toMatch(/if \(req\.method == "OPTIONS" && req\.http\.Origin && req\.http\.Access-Control-Request-Method\) \{\s+set req\.http\.X-Edge-Method = "OPTIONS";\s+return \(hash\);/);
    expect(vcl).toContain('hash_data(req.http.Access-Control-Request-Headers);');
    expect(vcl).toContain('set bereq.method = bereq.http.X-Edge-Method;');
  });
  it('compiles with varnishd -C', () => {
    const file = join(scratch, 'default.vcl');
    writeFileSync(file, vcl);
    execFileSync('varnishd', ['-C', '-f', file, '-n', join(scratch, 'varnish')], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
});

describe('my.cnf', () => {
  it('starts every node read-only, GTID, semi-sync AFTER_SYNC with the master side off', () => {
    const cnfs = d.dbNodes.map((n) => mariadbCnf(d, n, paths));
    for (const c of cnfs) {
      expect(c).toMatch(/^read_only=ON$/m);
      expect(c).toMatch(/^gtid_strict_mode=ON$/m);
      expect(c).toMatch(/^init_rpl_role=SLAVE$/m);
      expect(c).toMatch(/^rpl_semi_sync_master_wait_point=AFTER_SYNC$/m);
      expect(c).toMatch(/^rpl_semi_sync_master_enabled=OFF$/m);
      expect(c).toMatch(/^rpl_semi_sync_slave_enabled=ON$/m);
      expect(c).toMatch(/^rpl_semi_sync_master_timeout=2000$/m);
      expect(c).toContain(`ssl_ca=${paths.tls.ca}\nssl_cert=${paths.tls.cert}\nssl_key=${paths.tls.key}\n`);
      expect(c).not.toMatch(/^require_secure_transport/m);
    }
    expect(cnfs[0]).toMatch(/^server_id=1$/m);
    // The node the topology names primary restarts as MASTER: its crash recovery keeps what it acknowledged.
    expect(mariadbCnf(d, d.dbNodes[0]!, paths, 'primary')).toMatch(/^init_rpl_role=MASTER$/m);
    expect(cnfs[1]).toMatch(/^server_id=2$/m);
    expect(cnfs[1]).toMatch(/^port=21311$/m);
  });
  it('is fully durable by default (survives an OS crash); database.durability relaxed trades that for commit latency', () => {
    const full = mariadbCnf(d, d.dbNodes[0]!, paths);
    expect(full).toMatch(/^sync_binlog=1\ninnodb_flush_log_at_trx_commit=1$/m);
    const relaxed = resolve({ ...small, database: { ...small.database, durability: 'relaxed' } });
    expect(mariadbCnf(relaxed, relaxed.dbNodes[0]!, paths)).toMatch(/^sync_binlog=0\ninnodb_flush_log_at_trx_commit=2$/m);
  });
  it('points the exporter at the writer endpoint', () => {
    expect(mysqldExporterCnf(d, secrets)).toMatch(/^port=21306$/m);
  });
});

describe('redis.conf and sentinel.conf', () => {
  it('makes the second node a replica of the first, without persistence', () => {
    const [p, r] = d.cacheNodes.map((n) => redisConf(d, n, paths, secrets));
    expect(p).not.toMatch(/^replicaof/m);
    expect(r).toContain('replicaof 127.0.0.1 21379');
    expect(r).toContain('save ""');
  });
  it('restarts the old primary as a replica of the port Sentinel reports', () => {
    const old = redisConf(d, d.cacheNodes[0]!, paths, secrets, 21380);
    expect(old).toContain('replicaof 127.0.0.1 21380');
    expect(redisConf(d, d.cacheNodes[1]!, paths, secrets, 21380)).not.toMatch(/^replicaof/m);
  });
  it('monitors the primary under the definition\'s master name with its quorum', () => {
    const s = sentinelConf(d, d.sentinelNodes[0]!, paths, secrets);
    expect(s).toContain('sentinel monitor conduit-test-cache 127.0.0.1 21379 2');
    expect(s).toContain('sentinel down-after-milliseconds conduit-test-cache 1000');
    expect(s).toContain('port 21389');
  });
  it('defines ACL users: default only with the control plane\'s password, the API limited to its keys and commands', () => {
    const conf = redisConf(d, d.cacheNodes[1]!, paths, secrets);
    const users = new Map(conf.split('\n').filter((l) => l.startsWith('user ')).map((l) => [l.split(' ')[1]!, l.split(' ').slice(2)]));
    expect([...users.keys()]).toEqual(['default', 'conduit-api', 'replica', 'sentinel', 'exporter']);
    // No user without a password (`nopass`), none that is off by mistake.
    for (const [name, rules] of users) {
      expect(rules, name).toContain('on');
      expect(rules.filter((r) => r.startsWith('>')), name).toHaveLength(1);
      expect(rules, name).not.toContain('nopass');
    }
    expect(users.get('default')).toContain('>radm');
    const api = users.get('conduit-api')!;
    expect(api).toEqual(expect.arrayContaining(['>rapi', 'resetkeys', '~conduit:*', 'resetchannels', '-@all', '+get', '+set', '+evalsha', '+eval', '+incr', '+pexpire']));
    // Nothing administrative or key-space wide: every grant is a single command, after -@all.
    expect(api.indexOf('-@all')).toBeLessThan(api.findIndex((r) => r.startsWith('+')));
    // Exactly the definition's rules (cacheAccess.api), the ones AWS writes into its ElastiCache RBAC user.
    expect(api.join(' ')).toBe(`on >rapi resetkeys ${cacheAclRules(d.cacheAccess.api)}`);
    for (const bad of ['+@all', '+@admin', '+@dangerous', '+config', '+flushall', '+flushdb', '+acl', '+keys', '+debug', '~*', 'allkeys', 'allcommands', 'allchannels', '&*']) expect(api, bad).not.toContain(bad);
    expect(users.get('exporter')).not.toContain('+get');
    expect(users.get('exporter')!.some((r) => r.startsWith('~'))).toBe(false);
    expect(users.get('replica')).toEqual(expect.arrayContaining(['>rrep', '-@all', '+psync', '+replconf', '+ping']));
    expect(users.get('sentinel')).toEqual(expect.arrayContaining(['>rsen', '+slaveof', '+config|rewrite', '+publish', '+subscribe']));
    // Replication authenticates as the replica user (every node: roles change on a failover).
    expect(conf).toContain('masteruser replica\nmasterauth rrep');
    expect(redisConf(d, d.cacheNodes[0]!, paths, secrets)).toContain('masterauth rrep');
  });
  it('a real redis-server loads the users and enforces them (no TCP port: a unix socket in the scratch folder)', async () => {
    const conf = join(scratch, 'redis.conf');
    const sock = join(scratch, 'redis.sock');
    // Redis changes to `dir` while it parses the file: point it at the scratch folder first.
    writeFileSync(conf, redisConf(d, d.cacheNodes[0]!, paths, secrets).replace(/^dir .*$/m, `dir ${scratch}`));
    const server = spawn('redis-server', [conf, '--port', '0', '--unixsocket', sock], { stdio: 'ignore' });
    try {
      const cli = (args: string[], auth?: [string, string]) => {
        const r = spawnSync('redis-cli', ['-s', sock, ...(auth ? ['--user', auth[0]] : []), ...args], { encoding: 'utf8', env: { ...process.env, ...(auth ? { REDISCLI_AUTH: auth[1] } : {}) } });
        return r.stdout.trim();
      };
      for (let i = 0; i < 50 && cli(['PING']) === ''; i++) await new Promise((r) => setTimeout(r, 100));
      // No credentials: nothing, not even a cache write.
      expect(cli(['SET', 'conduit:c:1:article:x', 'poison'])).toMatch(/NOAUTH/);
      expect(cli(['PING'], ['default', 'wrong'])).toMatch(/NOAUTH|WRONGPASS/);
      const admin: [string, string] = ['default', 'radm'];
      const dry = (user: string, ...cmd: string[]) => cli(['ACL', 'DRYRUN', user, ...cmd], admin);
      // What the API sends works…
      for (const cmd of [['SET', 'conduit:c:1:k', 'v', 'EX', '5'], ['GET', 'conduit:gen'], ['INCR', 'conduit:n:rl:x'], ['PEXPIRE', 'conduit:n:rl:x', '1'], ['EVALSHA', 'a'.repeat(40), '1', 'conduit:gen'], ['EVAL', 'return 1', '1', 'conduit:gen'], ['INFO', 'replication'], ['ROLE'], ['PING']]) {
        expect(dry('conduit-api', ...cmd), cmd.join(' ')).toBe('OK');
      }
      // …nothing else: other keys, administration, the key space.
      for (const cmd of [['SET', 'other', 'v'], ['CONFIG', 'SET', 'maxmemory', '1'], ['FLUSHALL'], ['ACL', 'LIST'], ['KEYS', '*'], ['SCRIPT', 'FLUSH'], ['SUBSCRIBE', 'x'], ['SHUTDOWN'], ['REPLICAOF', 'no', 'one']]) {
        expect(dry('conduit-api', ...cmd), cmd.join(' ')).toMatch(/no permissions/);
      }
      expect(cli(['FLUSHALL'], ['conduit-api', 'rapi'])).toMatch(/NOPERM/);
      expect(cli(['SET', 'conduit:c:1:k', 'v'], ['conduit-api', 'rapi'])).toBe('OK');
      expect(dry('exporter', 'INFO')).toBe('OK');
      expect(dry('exporter', 'GET', 'conduit:gen')).toMatch(/no permissions/);
      expect(dry('replica', 'PSYNC', '?', '-1')).toBe('OK');
      expect(dry('replica', 'GET', 'conduit:gen')).toMatch(/no permissions/);
      expect(dry('sentinel', 'SLAVEOF', 'no', 'one')).toBe('OK');
      expect(dry('sentinel', 'FLUSHALL')).toMatch(/no permissions/);
    } finally {
      server.kill();
    }
  });
  it('makes Sentinel authenticate to Redis and require a password itself', () => {
    const s = sentinelConf(d, d.sentinelNodes[0]!, paths, secrets);
    expect(s).toContain('sentinel auth-user conduit-test-cache sentinel\nsentinel auth-pass conduit-test-cache rsen');
    expect(s).toContain('requirepass spw');
    expect(s).toContain('sentinel sentinel-pass spw');
  });
});

describe('prometheus.yml', () => {
  const y = prometheusConfig(d, paths);
  it('scrapes HAProxy, the API instances (file_sd), both exporters, with tier and zone labels', () => {
    expect(y).toContain("- targets: ['127.0.0.1:21404']");
    expect(y).toContain('file_sd_configs');
    expect(y).toContain("labels: { tier: cache, zone: 'b', node: 'redis-2' }");
    expect(y).toContain('replacement: 127.0.0.1:21521');
    expect(y).toContain("- targets: ['127.0.0.1:21504']");
    const targets = JSON.parse(apiTargets([{ name: 'api-1', zone: 'a', port: 21200, host: '127.0.2.1', region: 'eu-central-1' }]));
    expect(targets).toEqual([{ targets: ['127.0.2.1:21200'], labels: { region: 'eu-central-1', tier: 'api', zone: 'a', instance_name: 'api-1' } }]);
    // A process table written before regions existed: loopback, region "local".
    expect(JSON.parse(apiTargets([{ name: 'api-1', zone: 'a', port: 21200 }]))[0].labels.region).toBe('local');
  });
  it('turns observability.alarms into alerting rules', () => {
    const rules = prometheusRules(d);
    expect(rules).toContain('code="5xx"}[1m])) / clamp_min(');
    expect(rules).toMatch(/> 1\n {8}for: 1m/);
    expect(rules).toContain('histogram_quantile(0.99');
    expect(rules).toMatch(/> 500\n/);
    expect(rules).toContain('mysql_global_status_rpl_semi_sync_master_status == 0');
    expect(rules).toContain(`mysql_global_status_rpl_semi_sync_master_clients < ${d.dbNodes.length - 1}`);
  });
  it('is accepted by promtool, rules included', () => {
    const file = join(scratch, 'prometheus.yml');
    writeFileSync(file, prometheusConfig(d, { prometheusRules: join(scratch, 'prometheus-rules.yml'), prometheusApiTargets: join(scratch, 'prometheus-api-targets.json') }));
    writeFileSync(join(scratch, 'prometheus-api-targets.json'), apiTargets([]));
    writeFileSync(join(scratch, 'prometheus-rules.yml'), prometheusRules(d));
    execFileSync('promtool', ['check', 'config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
});

describe('nginx.conf (front instance)', () => {
  const slot = d.frontSlots[1]!;
  const conf = nginxConf(d, slot, '/srv/site', { data: scratch, run: scratch, logs: scratch });
  it('serves the SPA with history routing and immutable hashed assets', () => {
    expect(conf).toContain('listen 127.0.0.1:21101;');
    expect(conf).toContain('try_files $uri /index.html;');
    expect(conf).toContain('try_files $uri =404;');
    expect(conf).toContain('add_header Cache-Control "public, max-age=31536000, immutable";');
    expect(conf).not.toContain('immutable" always');
    expect(conf).toContain('add_header Cache-Control "no-cache" always;');
    expect(conf).toContain('add_header X-Zone b always;');
    // Frame-blocking, nosniff and a referrer policy on every answer, in both locations (nginx does not inherit add_header into a location with its own).
    for (const h of ['X-Frame-Options DENY always;', 'X-Content-Type-Options nosniff always;', 'Referrer-Policy strict-origin-when-cross-origin always;']) expect(conf.split(`add_header ${h}`).length - 1, h).toBe(2);
    expect(conf).toMatch(/add_header Content-Security-Policy "[^"]*frame-ancestors 'none'[^"]*" always;/);
    expect(conf).not.toMatch(/img-src[^;]* http:/);
  });
  it('is accepted by nginx -t', () => {
    const file = join(scratch, 'front.nginx.conf');
    writeFileSync(file, conf);
    mkdirSync(join(scratch, slot.name), { recursive: true });
    execFileSync('nginx', ['-t', '-p', join(scratch, slot.name), '-e', join(scratch, 'nginx-t.log'), '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
});
