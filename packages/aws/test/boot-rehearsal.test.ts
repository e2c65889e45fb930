// The boot rehearsal: what an API instance would actually do with the synthesized launch template.
// The user data is taken from the synthesized Terraform JSON, its Terraform references are resolved the way
// terraform would (to this machine's servers), and it runs for real with bash in a private mount namespace
// (/etc is an overlay, /opt and /tmp are folders of this test), with stand-ins for what only exists on AWS:
// `dnf`, `aws` (serves the release artifact `tier release` builds and the secrets), `curl` (the metadata
// service) and `systemctl`, each recording what it was asked. Then the unit it wrote is started as systemd
// would (its EnvironmentFile, WorkingDirectory, ExecStart) against a MariaDB that requires TLS and a Redis that
// is TLS-only with the synthesized RBAC users (the default user off, the API's user with exactly the synthesized
// access string), like Aurora and ElastiCache, and /health/ready must answer 200 with the cache up.
// What the rehearsal changes, and why: PORT/HOST (3000 on every address would collide on this shared
// machine: 127.0.0.1:26412 instead) and the CA (DATABASE_TLS_CA=rds names Amazon's CAs, which cannot have
// signed a local server: the test asserts `rds`, then points it at the local CA; NODE_EXTRA_CA_CERTS stands
// for the public trust store ElastiCache's certificates chain to). Ports 26410-26412; runs under the port lock.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease } from '@conduit/release';
import { assertPortFree, generateCertificates, startMariaDb, startRedis, stopProcess, waitForPort, type ServerHandle, type TlsFiles } from '@conduit/testkit';
import { appUserSql } from '../src/constructs/database.js';
import { all, examples, one, synthDefinition, type Synthesized } from './helpers.js';

const PORTS = { mariadb: 26410, redis: 26411, api: 26412 };
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = join(root, '.test-state', 'aws-rehearsal');
const SECRETS = { app: 'rehearsal-app-password-0123456789', jwt: 'rehearsal-jwt-secret-0123456789abcdef0123456789', cache: 'rehearsalCacheAuthToken0123456789' };
let s: Synthesized;
let tls: TlsFiles;
/** The releases bucket as a folder: <tier>/<version>.tar.gz and <tier>/<version>.release.json, as upload-release.sh puts them. */
const bucket = join(work, 'bucket');
const servers: ServerHandle[] = [];
let api: ChildProcess | undefined;
let unitLog = '';

/** What terraform would put in place of each reference, pointing at this machine's servers. */
const REFERENCES: [RegExp, string][] = [
  [/^aws_s3_bucket\.releases_bucket_\w+\.bucket$/, 'rehearsal-releases'],
  [/^aws_opensearch_domain\.\w+\.endpoint$/, 'search.rehearsal.invalid'],
  [/^(data\.)?aws_rds_global_cluster\.\w+\.endpoint$/, '127.0.0.1'],
  [/^aws_rds_cluster\.\w+\.(endpoint|reader_endpoint)$/, '127.0.0.1'],
  [/^aws_rds_cluster\.\w+\.port$/, String(PORTS.mariadb)],
  [/^aws_elasticache_replication_group\.\w+\.primary_endpoint_address$/, '127.0.0.1'],
  [/^aws_elasticache_replication_group\.\w+\.port$/, String(PORTS.redis)],
  [/^var\.domain$/, 'conduit.example.com'],
  [/^var\.release_version$/, 'rehearsal'],
];

/** The boot script inside `${base64encode("...")}`, with every reference resolved; unknown ones fail the test. */
export function renderUserData(userData: string, vars: Record<string, string> = {}): string {
  const m = /^\$\{base64encode\("(.*)"\)\}$/s.exec(userData);
  if (!m) throw new Error(`user_data is not \${base64encode("...")}: ${userData.slice(0, 80)}`);
  const resolved = m[1]!.replace(/(?<!\$)\$\{([^}]+)\}/g, (_, ref: string) => {
    if (ref in vars) return vars[ref]!;
    const hit = REFERENCES.find(([re]) => re.test(ref));
    if (!hit) throw new Error(`the rehearsal does not know what terraform resolves \${${ref}} to`);
    return hit[1];
  });
  // HCL string escapes (\n, \", \\) are JSON's; $${ is a literal dollar-brace.
  return (JSON.parse(`"${resolved}"`) as string).replaceAll('$${', '${');
}

const standIns = (bin: string, log: string, secrets: Record<string, string>) => {
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  write('dnf', 'exit 0');
  write('systemctl', 'exit 0');
  write('curl', [
    'case "$*" in',
    '  *api/token*) echo rehearsal-imds-token;;',
    '  *instance-id*) echo i-0rehearsal;;',
    '  *availability-zone*) echo us-east-1a;;',
    '  *) exit 22;;',
    'esac',
  ].join('\n'));
  write('aws', [
    'if [ "$1 $2" = "s3 cp" ]; then',
    '  for a in "$@"; do case "$a" in s3://*) src=$a;; esac; done',
    '  dest=${@: -1}',
    `  key=\${src#s3://rehearsal-releases/}`,
    `  if [ -f "${bucket}/$key" ]; then cp "${bucket}/$key" "$dest"; exit 0; fi`,
    '  echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1',
    'fi',
    'if [ "$1 $2" = "secretsmanager get-secret-value" ]; then',
    '  while [ $# -gt 0 ]; do [ "$1" = --secret-id ] && id=$2; shift; done',
    '  case "$id" in',
    ...Object.entries(secrets).map(([id, value]) => `    '${id}') echo ${value};;`),
    '    *) echo "An error occurred (ResourceNotFoundException): $id" >&2; exit 254;;',
    '  esac',
    '  exit 0',
    'fi',
    'exit 252',
  ].join('\n'));
};

interface Boot {
  dir: string;
  status: number | null;
  stderr: string;
  calls: string[];
  stdout: string;
  env: Record<string, string>;
  unit: Record<string, string>;
  /** The release folder as the instance has it (under this boot's /opt). */
  release: (p: string) => string;
}

/** The instance's private view: /etc an overlay, /opt, /tmp and /usr/local/bin folders of this boot. */
const mounts = (dir: string) => [
  `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc`,
  `mount --bind ${dir}/opt /opt`,
  `mount --bind ${dir}/tmp /tmp`,
  `mount --bind ${dir}/usr-local-bin /usr/local/bin`,
];

/** Runs a command inside a boot's private view (as SSM Run Command would on the instance). */
function onInstance(b: Boot, command: string) {
  return spawnSync('unshare', ['--mount', '--fork', 'bash', '-c', [...mounts(b.dir), command].join(' && ')], {
    encoding: 'utf8', env: { PATH: `${b.dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: b.dir }, timeout: 60_000,
  });
}

/** Runs a rendered boot script in a private mount namespace; returns what it did and wrote. */
function boot(name: string, script: string, opts: { mayFail?: boolean } = {}): Boot {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'etc-up', 'etc-work', 'opt', 'tmp', 'usr-local-bin']) mkdirSync(join(dir, d), { recursive: true });
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  standIns(join(dir, 'bin'), log, { 'conduit-prod/db/conduit_app': SECRETS.app, 'conduit-prod/api/jwt': SECRETS.jwt, 'conduit-prod/cache/conduit-api-us-east-1': SECRETS.cache, 'conduit-prod/cache/conduit-api-us-west-2': SECRETS.cache });
  writeFileSync(join(dir, 'user-data.sh'), script);
  const setup = [
    ...mounts(dir),
    // Amazon Linux has a `nobody` group (Debian calls it nogroup).
    "grep -q '^nobody:' /etc/group || echo 'nobody:x:65534:' >> /etc/group",
    `exec bash ${dir}/user-data.sh`,
  ].join(' && ');
  const started = performance.now();
  const r = spawnSync('unshare', ['--mount', '--fork', 'bash', '-c', setup], {
    encoding: 'utf8', env: { PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: dir }, timeout: 60_000,
  });
  if (r.status !== 0 && !opts.mayFail) throw new Error(`the boot script failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  console.log(`boot rehearsal ${name}: the user data ran in ${((performance.now() - started) / 1000).toFixed(2)} s (package installs stood in for)`);
  const envFile = join(dir, 'etc-up', 'conduit-prod', 'api.env');
  const unitFile = join(dir, 'etc-up', 'systemd', 'system', 'conduit-prod-api.service');
  const pairs = (file: string) => existsSync(file)
    ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => /^[A-Za-z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'(.*)'$/, '$1')]))
    : {};
  return {
    dir, stdout: r.stdout, status: r.status, stderr: r.stderr,
    calls: readFileSync(log, 'utf8').trim().split('\n'),
    env: pairs(envFile),
    unit: pairs(unitFile),
    release: (p) => join(dir, 'opt', p.replace(/^\/opt\//, '')),
  };
}

/** Starts the unit's command as systemd would, with the rehearsal's substitutions; resolves once it listens. */
async function startUnit(b: Boot): Promise<{ env: Record<string, string>; cwd: string }> {
  expect(b.env.DATABASE_TLS_CA).toBe('rds');
  // One unit at a time: a test that failed before stopping its unit must not leave it answering for the next.
  if (api) await stopProcess(api);
  api = undefined;
  await assertPortFree(PORTS.api, 'the rehearsed API unit');
  const env = { ...b.env, PORT: String(PORTS.api), HOST: '127.0.0.1', DATABASE_TLS_CA: tls.ca, NODE_EXTRA_CA_CERTS: tls.ca, LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' };
  const [cmd, ...args] = b.unit.ExecStart!.split(' ');
  const cwd = b.release(b.unit.WorkingDirectory!);
  const started = performance.now();
  api = spawn(cmd!, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  api.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // The unit's log (journald on AWS): shown when readiness never comes.
  unitLog = '';
  api.stdout!.on('data', (d: Buffer) => (unitLog = (unitLog + d.toString()).slice(-4000)));
  await waitForPort(PORTS.api, 20_000).catch((e: Error) => {
    throw new Error(`${e.message}: the unit's command did not start:\n${stderr}`);
  });
  console.log(`boot rehearsal: the unit's command listened after ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return { env, cwd };
}

/**
 * Polls /health/ready until it answers 200 with the cache up (an instance connects to its database and cache after it
 * listens; the ALB health check retries the same way), for at most 15 s; returns the last answer.
 */
async function readyWithin(base: string): Promise<{ status: number; body: string }> {
  const started = performance.now();
  let last = { status: 0, body: '' };
  while (performance.now() - started < 15_000) {
    const res = await fetch(`${base}/health/ready`);
    last = { status: res.status, body: await res.text() };
    if (last.status === 200 && JSON.parse(last.body).cache === 'up') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`boot rehearsal: ready (database and cache up) ${((performance.now() - started) / 1000).toFixed(2)} s after listening`);
  return { ...last, body: last.status === 200 ? last.body : `${last.body}\nthe unit's log:\n${unitLog}` };
}

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  s = synthDefinition(examples.complete!);
  const release = await buildRelease(s.def, { outDir: join(work, 'release'), version: 'rehearsal' });
  // Uploaded as scripts/deploy/upload-release.sh does: the artifact and its release.json beside it, by version.
  for (const a of release.artifacts) {
    mkdirSync(join(bucket, a.tier), { recursive: true });
    cpSync(a.tarball, join(bucket, a.tier, 'rehearsal.tar.gz'));
    writeFileSync(join(bucket, a.tier, 'rehearsal.release.json'), execFileSync('tar', ['-xzOf', a.tarball, './release.json']));
  }
  // A tampered upload: version "tampered", its release.json consistent inside and beside the artifact, but
  // server.mjs changed after the build (what a bad upload, a compromised build cache or bit rot would give).
  const tree = join(work, 'tampered');
  mkdirSync(tree, { recursive: true });
  execFileSync('tar', ['-xzf', join(bucket, 'api', 'rehearsal.tar.gz'), '-C', tree]);
  appendFileSync(join(tree, 'server.mjs'), '\n// changed after the build\n');
  const manifest = JSON.parse(readFileSync(join(tree, 'release.json'), 'utf8'));
  writeFileSync(join(tree, 'release.json'), JSON.stringify({ ...manifest, version: 'tampered' }, null, 2) + '\n');
  execFileSync('tar', ['-czf', join(bucket, 'api', 'tampered.tar.gz'), '-C', tree, '.']);
  cpSync(join(tree, 'release.json'), join(bucket, 'api', 'tampered.release.json'));
  tls = await generateCertificates(join(work, 'tls'));
  const dbDir = join(work, 'mariadb');
  servers.push(await startMariaDb({ port: PORTS.mariadb, dir: dbDir, database: 'conduit', tls }));
  // ElastiCache's RBAC users as the primary stack synthesizes them (the password is an API parameter there).
  const users = Object.fromEntries(all(s.stacks['conduit-prod-us-east-1']!, 'aws_elasticache_user').map(([, u]) => [u.user_name as string, u.access_string as string]));
  expect(Object.keys(users).sort()).toEqual(['conduit-api', 'default']);
  servers.push(await startRedis({
    port: PORTS.redis, dir: join(work, 'redis'), tls,
    users: [`default ${users.default}`, `conduit-api ${users['conduit-api']} >${SECRETS.cache}`],
  }));
  // The app user exactly as the deploy creates it on Aurora (appUserSql: REQUIRE SSL, DML + schema rights).
  execFileSync('mariadb', [`--socket=${join(dbDir, 'mysqld.sock')}`, '-uroot', '-e', appUserSql('conduit').replace(':password', `'${SECRETS.app}'`)]);
}, 240_000);

afterAll(async () => {
  if (api) await stopProcess(api);
  for (const srv of servers.reverse()) await srv.stop().catch(() => undefined);
});

describe('boot rehearsal of the API instances', () => {
  it('primary region: installs the release, writes a unit and an environment the API accepts, and serves /health/ready', async () => {
    const b = boot('primary', renderUserData(String(one(s.stacks['conduit-prod-us-east-1']!, 'aws_launch_template', 'api_template').user_data)));
    expect(b.calls).toEqual(expect.arrayContaining([
      'dnf install -y -q nodejs22 tar gzip jq awscli-2',
      // The exact version of the launch template (release_version), and its manifest beside it: never `current`.
      expect.stringMatching(/^aws s3 cp --only-show-errors --region us-east-1 s3:\/\/rehearsal-releases\/api\/rehearsal\.tar\.gz \/tmp\/tmp\.\w+\/release\.tar\.gz$/),
      expect.stringMatching(/^aws s3 cp --only-show-errors --region us-east-1 s3:\/\/rehearsal-releases\/api\/rehearsal\.release\.json /),
      'aws secretsmanager get-secret-value --region us-east-1 --secret-id conduit-prod/db/conduit_app --query SecretString --output text',
      'aws secretsmanager get-secret-value --region us-east-1 --secret-id conduit-prod/cache/conduit-api-us-east-1 --query SecretString --output text',
      'systemctl enable --now conduit-prod-api.service',
    ]));
    expect(b.calls.some((c) => c.includes('current.tar.gz'))).toBe(false);
    expect(b.stdout).toContain('install-release: api rehearsal verified and installed in /opt/conduit-prod/api');
    // No log shipper uploaded: one line, and the boot went on.
    expect(b.stdout).toContain('log shipping is off');
    expect(b.unit).toMatchObject({ User: 'nobody', ExecStart: '/usr/bin/node server.mjs', EnvironmentFile: '/etc/conduit-prod/api.env' });
    // api.heap reaches node as one quoted value (the unit below starts with it, the migrate script sources it).
    expect(b.env.NODE_OPTIONS).toMatch(/^--max-old-space-size=\d+ --max-semi-space-size=\d+$/);
    expect(b.env.MALLOC_ARENA_MAX).toBe('1');
    // The client address is the X-Forwarded-For entry CloudFront wrote: exactly two trusted hops (CloudFront,
    // the ALB), the definition's apiProxyChain, never the leftmost entry a client can forge.
    expect(b.env.TRUSTED_PROXY_HOPS).toBe('2');
    expect(existsSync(b.release(`${b.unit.WorkingDirectory}/server.mjs`))).toBe(true);
    expect(JSON.parse(readFileSync(b.release(`${b.unit.WorkingDirectory}/release.json`), 'utf8')).version).toBe('rehearsal');

    await startUnit(b);
    // The deploy's one migration step: the helper the boot script wrote, as SSM Run Command runs it (the SSM
    // document's command), with the instance's environment file (the CA substituted as for the unit).
    const envFile = join(b.dir, 'etc-up', 'conduit-prod', 'api.env');
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^DATABASE_TLS_CA=rds$/m, `DATABASE_TLS_CA=${tls.ca}`));
    const command = JSON.parse(String(one(s.stacks['conduit-prod-us-east-1']!, 'aws_ssm_document', 'migrate').content)).mainSteps[0].inputs.runCommand[0] as string;
    expect(command).toBe('/usr/local/bin/conduit-prod-migrate {{ version }}');
    const migrated = onInstance(b, command.replace('{{ version }}', 'rehearsal'));
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain('install-release: api rehearsal verified and installed in /opt/conduit-prod/migrate/rehearsal');
    expect(migrated.stdout).toContain('migrate: applied');
    // It cleaned up after itself; the running release was not touched.
    expect(existsSync(join(b.dir, 'opt', 'conduit-prod', 'migrate', 'rehearsal'))).toBe(false);
    expect(existsSync(b.release('/opt/conduit-prod/api/server.mjs'))).toBe(true);
    const base = `http://127.0.0.1:${PORTS.api}`;
    const ready = await readyWithin(base);
    expect(ready.status, ready.body).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ cache: 'up' });
    // The cache as the instance's credentials reach it: the API's user is limited to its rules, anonymous gets nothing.
    expect(b.env.REDIS_URL).toBe(`rediss://conduit-api:${SECRETS.cache}@127.0.0.1:${PORTS.redis}`);
    const cli = (auth: boolean, ...args: string[]) => spawnSync('redis-cli', ['--tls', '--cacert', tls.ca, '-h', '127.0.0.1', '-p', String(PORTS.redis), ...(auth ? ['--user', 'conduit-api'] : []), ...args],
      { encoding: 'utf8', env: { ...process.env, ...(auth ? { REDISCLI_AUTH: SECRETS.cache } : {}) } }).stdout.trim();
    expect(cli(true, 'set', 'conduit:rehearsal', '1')).toBe('OK');
    expect(cli(true, 'set', 'elsewhere', '1')).toMatch(/^NOPERM/);
    for (const command of [['flushall'], ['keys', '*'], ['acl', 'list'], ['config', 'get', 'maxmemory']]) expect(cli(true, ...command), command.join(' ')).toMatch(/^NOPERM/);
    expect(cli(false, 'get', 'conduit:rehearsal')).toMatch(/^NOAUTH/);
    const reg = await fetch(`${base}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { username: 'rehearsal', email: 'rehearsal@example.com', password: 'a-long-password-1' } }) });
    expect(reg.status, await reg.clone().text()).toBe(201);
    await stopProcess(api!);
    api = undefined;
  }, 60_000);

  it('secondary region: the same, writing through its own cluster endpoint', async () => {
    const b = boot('secondary', renderUserData(String(one(s.stacks['conduit-prod-us-west-2']!, 'aws_launch_template', 'api_template').user_data)));
    expect(b.calls).toContainEqual(expect.stringMatching(/^aws s3 cp --only-show-errors --region us-west-2 s3:\/\/rehearsal-releases\/api\/rehearsal\.tar\.gz /));
    await startUnit(b);
    const ready = await readyWithin(`http://127.0.0.1:${PORTS.api}`);
    expect(ready.status, ready.body).toBe(200);
    // A write, on the secondary region's instance.
    const reg = await fetch(`http://127.0.0.1:${PORTS.api}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { username: 'rehearsal2', email: 'rehearsal2@example.com', password: 'a-long-password-1' } }) });
    expect(reg.status).toBe(201);
  }, 60_000);

  it('front: installs the release and a server block that the real nginx accepts (nginx -t, run by the script)', () => {
    const b = boot('front', renderUserData(String(one(s.stacks['conduit-prod-us-east-1']!, 'aws_launch_template', 'front_template').user_data)));
    expect(b.calls).toEqual(expect.arrayContaining([
      'dnf install -y -q nginx tar gzip jq awscli-2',
      expect.stringMatching(/^aws s3 cp --only-show-errors --region us-east-1 s3:\/\/rehearsal-releases\/front\/rehearsal\.tar\.gz /),
      'systemctl enable --now nginx.service',
    ]));
    // nginx is Debian's here, not a stand-in: `nginx -t` under set -e checked the shipped server block in conf.d.
    expect(b.calls.some((c) => c.startsWith('nginx'))).toBe(false);
    expect(readFileSync(join(b.dir, 'etc-up', 'nginx', 'conf.d', 'conduit-prod-front.conf'), 'utf8')).toContain('root /opt/conduit-prod/front/site;');
    expect(existsSync(join(b.dir, 'opt', 'conduit-prod', 'front', 'site', 'index.html'))).toBe(true);
  });

  it('fails closed: an artifact that does not match its release.json stops the boot before anything is installed or started', () => {
    const ud = String(one(s.stacks['conduit-prod-us-east-1']!, 'aws_launch_template', 'api_template').user_data);
    const b = boot('tampered', renderUserData(ud, { 'var.release_version': 'tampered' }), { mayFail: true });
    expect(b.status).not.toBe(0);
    expect(b.stderr).toContain('install-release: api/tampered.tar.gz does not match the sha256 of its release.json: refusing it');
    expect(b.stdout).toContain('server.mjs: FAILED');
    expect(existsSync(join(b.dir, 'opt', 'conduit-prod', 'api'))).toBe(false);
    expect(b.calls.some((c) => c.startsWith('systemctl') || c.startsWith('aws secretsmanager'))).toBe(false);

    // A version that was never uploaded: the download fails, the boot stops too (no fallback to another version).
    const missing = boot('missing', renderUserData(ud, { 'var.release_version': 'v0-never-uploaded' }), { mayFail: true });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('Key not found');
    expect(missing.calls.some((c) => c.startsWith('systemctl'))).toBe(false);
  });

  it('refuses a reference it cannot resolve (nothing is guessed)', () => {
    expect(() => renderUserData('${base64encode("X=${aws_lb.front_alb.dns_name}")}')).toThrow(/does not know what terraform resolves \$\{aws_lb\.front_alb\.dns_name\}/);
  });
});
