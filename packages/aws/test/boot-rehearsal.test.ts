// The boot rehearsal: what an API instance would actually do with the synthesized launch template.
// The user data is taken from the synthesized Terraform JSON, its Terraform references are resolved the way
// terraform would (to this machine's servers), and it runs for real with bash in a private mount namespace
// (/etc is an overlay, /opt and /tmp are folders of this test), with stand-ins for what only exists on AWS:
// `dnf`, `aws` (serves the release artifact `tier release` builds and the secrets), `curl` (the metadata
// service) and `systemctl`, each recording what it was asked. Then the unit it wrote is started as systemd
// would (its EnvironmentFile, WorkingDirectory, ExecStart) against a MariaDB that requires TLS and a Redis that
// is TLS-only with AUTH, like Aurora and ElastiCache, and /health/ready must answer 200.
// What the rehearsal changes, and why: PORT/HOST (3000 on every address would collide on this shared
// machine: 127.0.0.1:26412 instead) and the CA (DATABASE_TLS_CA=rds names Amazon's CAs, which cannot have
// signed a local server: the test asserts `rds`, then points it at the local CA; NODE_EXTRA_CA_CERTS stands
// for the public trust store ElastiCache's certificates chain to). Ports 26410-26412; runs under the port lock.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease } from '@conduit/release';
import { generateCertificates, startMariaDb, startRedis, stopProcess, waitForPort, type ServerHandle, type TlsFiles } from '@conduit/testkit';
import { appUserSql } from '../src/constructs/database.js';
import { examples, one, synthDefinition, type Synthesized } from './helpers.js';

const PORTS = { mariadb: 26410, redis: 26411, api: 26412 };
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = join(root, '.test-state', 'aws-rehearsal');
const SECRETS = { app: 'rehearsal-app-password-0123456789', jwt: 'rehearsal-jwt-secret-0123456789abcdef0123456789', cache: 'rehearsalCacheAuthToken0123456789' };
let s: Synthesized;
let tls: TlsFiles;
let artifact: string;
let frontArtifact: string;
const servers: ServerHandle[] = [];
let api: ChildProcess | undefined;

/** What terraform would put in place of each reference, pointing at this machine's servers. */
const REFERENCES: [RegExp, string][] = [
  [/^aws_s3_bucket\.releases_bucket_\w+\.bucket$/, 'rehearsal-releases'],
  [/^aws_opensearch_domain\.\w+\.endpoint$/, 'search.rehearsal.invalid'],
  [/^(data\.)?aws_rds_global_cluster\.\w+\.endpoint$/, '127.0.0.1'],
  [/^aws_rds_cluster\.\w+\.(endpoint|reader_endpoint)$/, '127.0.0.1'],
  [/^aws_rds_cluster\.\w+\.port$/, String(PORTS.mariadb)],
  [/^aws_elasticache_replication_group\.\w+\.primary_endpoint_address$/, '127.0.0.1'],
  [/^aws_elasticache_replication_group\.\w+\.port$/, String(PORTS.redis)],
  [/^aws_secretsmanager_secret\.cache_auth_secret_\w+\.name$/, 'cache-auth-secret'],
  [/^var\.domain$/, 'conduit.example.com'],
];

/** The boot script inside `${base64encode("...")}`, with every reference resolved; unknown ones fail the test. */
export function renderUserData(userData: string): string {
  const m = /^\$\{base64encode\("(.*)"\)\}$/s.exec(userData);
  if (!m) throw new Error(`user_data is not \${base64encode("...")}: ${userData.slice(0, 80)}`);
  const resolved = m[1]!.replace(/(?<!\$)\$\{([^}]+)\}/g, (_, ref: string) => {
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
    `  if [ "$src" = s3://rehearsal-releases/api/current.tar.gz ]; then cp ${artifact} "$dest"; exit 0; fi`,
    `  if [ "$src" = s3://rehearsal-releases/front/current.tar.gz ]; then cp ${frontArtifact} "$dest"; exit 0; fi`,
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
  calls: string[];
  stdout: string;
  env: Record<string, string>;
  unit: Record<string, string>;
  /** The release folder as the instance has it (under this boot's /opt). */
  release: (p: string) => string;
}

/** Runs a rendered boot script in a private mount namespace; returns what it did and wrote. */
function boot(name: string, script: string): Boot {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'etc-up', 'etc-work', 'opt', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  standIns(join(dir, 'bin'), log, { 'conduit-prod/db/conduit_app': SECRETS.app, 'conduit-prod/api/jwt': SECRETS.jwt, 'cache-auth-secret': SECRETS.cache });
  writeFileSync(join(dir, 'user-data.sh'), script);
  const setup = [
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc`,
    `mount --bind ${dir}/opt /opt`,
    `mount --bind ${dir}/tmp /tmp`,
    // Amazon Linux has a `nobody` group (Debian calls it nogroup).
    "grep -q '^nobody:' /etc/group || echo 'nobody:x:65534:' >> /etc/group",
    `exec bash ${dir}/user-data.sh`,
  ].join(' && ');
  const started = performance.now();
  const r = spawnSync('unshare', ['--mount', '--fork', 'bash', '-c', setup], {
    encoding: 'utf8', env: { PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: dir }, timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`the boot script failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  console.log(`boot rehearsal ${name}: the user data ran in ${((performance.now() - started) / 1000).toFixed(2)} s (package installs stood in for)`);
  const envFile = join(dir, 'etc-up', 'conduit-prod', 'api.env');
  const unitFile = join(dir, 'etc-up', 'systemd', 'system', 'conduit-prod-api.service');
  const pairs = (file: string) => existsSync(file)
    ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => /^[A-Za-z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    : {};
  return {
    dir, stdout: r.stdout,
    calls: readFileSync(log, 'utf8').trim().split('\n'),
    env: pairs(envFile),
    unit: pairs(unitFile),
    release: (p) => join(dir, 'opt', p.replace(/^\/opt\//, '')),
  };
}

/** Starts the unit's command as systemd would, with the rehearsal's substitutions; resolves once it listens. */
async function startUnit(b: Boot): Promise<{ env: Record<string, string>; cwd: string }> {
  expect(b.env.DATABASE_TLS_CA).toBe('rds');
  const env = { ...b.env, PORT: String(PORTS.api), HOST: '127.0.0.1', DATABASE_TLS_CA: tls.ca, NODE_EXTRA_CA_CERTS: tls.ca, LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' };
  const [cmd, ...args] = b.unit.ExecStart!.split(' ');
  const cwd = b.release(b.unit.WorkingDirectory!);
  const started = performance.now();
  api = spawn(cmd!, args, { cwd, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  api.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(PORTS.api, 20_000).catch((e: Error) => {
    throw new Error(`${e.message}: the unit's command did not start:\n${stderr}`);
  });
  console.log(`boot rehearsal: the unit's command listened after ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return { env, cwd };
}

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  s = synthDefinition(examples.complete!);
  const release = await buildRelease(s.def, { outDir: join(work, 'release'), version: 'rehearsal' });
  artifact = release.artifacts.find((a) => a.tier === 'api')!.tarball;
  frontArtifact = release.artifacts.find((a) => a.tier === 'front')!.tarball;
  tls = await generateCertificates(join(work, 'tls'));
  const dbDir = join(work, 'mariadb');
  servers.push(await startMariaDb({ port: PORTS.mariadb, dir: dbDir, database: 'conduit', tls }));
  servers.push(await startRedis({ port: PORTS.redis, dir: join(work, 'redis'), tls, password: SECRETS.cache }));
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
      'dnf install -y -q nodejs22 tar gzip awscli-2',
      'aws s3 cp --only-show-errors --region us-east-1 s3://rehearsal-releases/api/current.tar.gz /tmp/release.tar.gz',
      'aws secretsmanager get-secret-value --region us-east-1 --secret-id conduit-prod/db/conduit_app --query SecretString --output text',
      'systemctl enable --now conduit-prod-api.service',
    ]));
    // No log shipper uploaded: one line, and the boot went on.
    expect(b.stdout).toContain('log shipping is off');
    expect(b.unit).toMatchObject({ User: 'nobody', ExecStart: '/usr/bin/node server.mjs', EnvironmentFile: '/etc/conduit-prod/api.env' });
    expect(existsSync(b.release(`${b.unit.WorkingDirectory}/server.mjs`))).toBe(true);
    expect(JSON.parse(readFileSync(b.release(`${b.unit.WorkingDirectory}/release.json`), 'utf8')).version).toBe('rehearsal');

    const { env, cwd } = await startUnit(b);
    // The first deploy runs the artifact's migrate.mjs with the same environment.
    expect(execFileSync(process.execPath, ['migrate.mjs'], { cwd, env, encoding: 'utf8' })).toContain('migrate: applied');
    const base = `http://127.0.0.1:${PORTS.api}`;
    const ready = await fetch(`${base}/health/ready`);
    const body = await ready.text();
    expect(ready.status, body).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ cache: 'up' });
    const reg = await fetch(`${base}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { username: 'rehearsal', email: 'rehearsal@example.com', password: 'a-long-password-1' } }) });
    expect(reg.status, await reg.clone().text()).toBe(201);
    await stopProcess(api!);
    api = undefined;
  }, 60_000);

  it('secondary region: the same, writing through its own cluster endpoint', async () => {
    const b = boot('secondary', renderUserData(String(one(s.stacks['conduit-prod-us-west-2']!, 'aws_launch_template', 'api_template').user_data)));
    expect(b.calls).toContain('aws s3 cp --only-show-errors --region us-west-2 s3://rehearsal-releases/api/current.tar.gz /tmp/release.tar.gz');
    await startUnit(b);
    const ready = await fetch(`http://127.0.0.1:${PORTS.api}/health/ready`);
    expect(ready.status, await ready.text()).toBe(200);
    // A write, on the secondary region's instance.
    const reg = await fetch(`http://127.0.0.1:${PORTS.api}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { username: 'rehearsal2', email: 'rehearsal2@example.com', password: 'a-long-password-1' } }) });
    expect(reg.status).toBe(201);
  }, 60_000);

  it('front: installs the release and a server block that the real nginx accepts (nginx -t, run by the script)', () => {
    const b = boot('front', renderUserData(String(one(s.stacks['conduit-prod-us-east-1']!, 'aws_launch_template', 'front_template').user_data)));
    expect(b.calls).toEqual(expect.arrayContaining([
      'dnf install -y -q nginx tar gzip awscli-2',
      'aws s3 cp --only-show-errors --region us-east-1 s3://rehearsal-releases/front/current.tar.gz /tmp/release.tar.gz',
      'systemctl enable --now nginx.service',
    ]));
    // nginx is Debian's here, not a stand-in: `nginx -t` under set -e checked the shipped server block in conf.d.
    expect(b.calls.some((c) => c.startsWith('nginx'))).toBe(false);
    expect(readFileSync(join(b.dir, 'etc-up', 'nginx', 'conf.d', 'conduit-prod-front.conf'), 'utf8')).toContain('root /opt/conduit-prod/front/site;');
    expect(existsSync(join(b.dir, 'opt', 'conduit-prod', 'front', 'site', 'index.html'))).toBe(true);
  });

  it('refuses a reference it cannot resolve (nothing is guessed)', () => {
    expect(() => renderUserData('${base64encode("X=${aws_lb.front_alb.dns_name}")}')).toThrow(/does not know what terraform resolves \$\{aws_lb\.front_alb\.dns_name\}/);
  });
});
