// The deploy scripts (scripts/deploy/*.sh, the steps of deploy-region.yml) run for real with bash, against a
// stand-in `aws` that answers like AWS and records what it was asked. The region's settings are the SSM
// parameter the synthesized stack writes (tier synth aws), its Terraform references resolved to names.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolvePath(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const work = mkdtempSync(join(tmpdir(), 'deploy-scripts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The boot script the launch template has now (release "old"), as EC2 returns it: base64. */
const bootScript = '#!/bin/bash\nset -euo pipefail\nRELEASE_VERSION=old\n/usr/local/bin/conduit-prod-install-release api $RELEASE_VERSION /opt/conduit-prod/api\n';
let settings: string;

beforeAll(() => {
  const out = join(work, 'aws');
  execFileSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), 'synth', 'aws', '--config', 'examples/complete.config.ts', `--out=${out}`], { cwd: root, stdio: 'ignore' });
  const stack = JSON.parse(readFileSync(join(out, 'stacks', 'conduit-prod-us-east-1', 'cdk.tf.json'), 'utf8'));
  const parameter = Object.values(stack.resource.aws_ssm_parameter as Record<string, { name: string; value: string }>).find((p) => p.name === '/conduit-prod/deploy/us-east-1')!;
  settings = parameter.value
    .replace(/\$\{aws_s3_bucket\.releases_bucket_\w+\.bucket\}/, 'conduit-prod-us-east-1-releases-abc')
    .replace(/\$\{aws_launch_template\.(api|front)_template_\w+\.id\}/g, (_, tier: string) => `lt-${tier}`)
    .replace(/\$\{aws_autoscaling_group\.(api|front)_asg_\w+\.name\}/g, (_, tier: string) => `conduit-prod-us-east-1-${tier}`);
  expect(settings).not.toContain('${');
}, 120_000);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

/** Runs one script with the stand-in aws; `state` folders keep what the stand-in was given. */
function run(script: string, args: string[], env: Record<string, string> = {}): Run {
  const bin = join(work, 'bin');
  const state = join(work, 'state');
  mkdirSync(bin, { recursive: true });
  mkdirSync(state, { recursive: true });
  const log = join(work, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(join(state, 'settings.json'), settings);
  writeFileSync(join(state, 'user-data'), Buffer.from(bootScript).toString('base64'));
  writeFileSync(join(bin, 'aws'), [
    '#!/bin/bash',
    `echo "aws $*" >> ${log}`,
    'file() { for a in "$@"; do case "$a" in file://*) echo "${a#file://}";; esac; done; }',
    'case "$1 $2" in',
    `  "ssm get-parameter") cat ${state}/settings.json;;`,
    `  "ec2 describe-launch-template-versions") printf '3\\t%s\\n' "$(cat ${state}/user-data)";;`,
    '  "ec2 create-launch-template-version")',
    '    for a in "$@"; do case "$a" in file://*) f=${a#file://};; esac; done',
    `    cp "$f" ${state}/new-data-$4.json; echo 4;;`,
    '  "autoscaling start-instance-refresh")',
    `    n=0; for f in $(file "$@"); do n=$((n+1)); cp "$f" ${state}/refresh-$4-$n.json; done; echo refresh-$4;;`,
    '  "autoscaling describe-instance-refreshes") printf "%s\\t%s\\n" "$REFRESH_STATUS" 100;;',
    '  "autoscaling describe-auto-scaling-groups") echo i-0123;;',
    '  "ec2 modify-launch-template") echo {};;',
    '  "ssm send-command") echo cmd-1;;',
    '  "ssm list-command-invocations") case "$*" in *Status*) echo "$MIGRATE_STATUS";; *) echo "migrate: applied 0002_example";; esac;;',
    '  "s3api head-object") exit 254;;',
    '  "s3 cp") ;;',
    '  *) echo "stand-in aws: unexpected $*" >&2; exit 252;;',
    'esac',
  ].join('\n') + '\n');
  chmodSync(join(bin, 'aws'), 0o755);
  const r = spawnSync('bash', [join(root, 'scripts/deploy', script), ...args], {
    encoding: 'utf8', cwd: root,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, RUNNER_TEMP: work, GITHUB_ENV: join(work, 'github.env'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

/** What outputs.sh and apply-version.sh exported for the next steps. */
const exported = () => Object.fromEntries(readFileSync(join(work, 'github.env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('the deploy scripts (deploy-region.yml steps) against a stand-in aws', () => {
  it('outputs.sh reads the deploy parameter, never Terraform state', () => {
    writeFileSync(join(work, 'github.env'), '');
    const r = run('outputs.sh', ['us-east-1'], { NAME: 'conduit-prod' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(['aws ssm get-parameter --region us-east-1 --name /conduit-prod/deploy/us-east-1 --query Parameter.Value --output text']);
    expect(exported()).toMatchObject({ RELEASES_BUCKET: 'conduit-prod-us-east-1-releases-abc', API_ASG: 'conduit-prod-us-east-1-api', FRONT_ASG: 'conduit-prod-us-east-1-front', MIGRATE_DOCUMENT: 'conduit-prod-migrate' });
  });

  it('migrate.sh sends the migrations document with the version to one healthy API instance, and fails when it fails', () => {
    const env = { API_ASG: 'conduit-prod-us-east-1-api', MIGRATE_DOCUMENT: 'conduit-prod-migrate' };
    const ok = run('migrate.sh', ['v2'], { ...env, MIGRATE_STATUS: 'Success' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.calls).toContainEqual('aws ssm send-command --instance-ids i-0123 --document-name conduit-prod-migrate --comment migrations of release v2 --parameters version=v2 --query Command.CommandId --output text');
    expect(ok.stdout).toContain('migrate: applied 0002_example');
    const failed = run('migrate.sh', ['v2'], { ...env, MIGRATE_STATUS: 'Failed' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('migrate: migrations of v2 ended Failed: the rollout stops before any instance is replaced');
  });

  it('apply-version.sh makes a launch template version that differs only in RELEASE_VERSION and refreshes to it with the stack\'s preferences', () => {
    writeFileSync(join(work, 'github.env'), '');
    const r = run('apply-version.sh', ['v2'], { DEPLOY_SETTINGS: join(work, 'state', 'settings.json') });
    expect(r.status, r.stderr).toBe(0);
    const state = join(work, 'state');
    for (const tier of ['api', 'front']) {
      const data = JSON.parse(readFileSync(join(state, `new-data-lt-${tier}.json`), 'utf8'));
      expect(Buffer.from(data.UserData, 'base64').toString()).toBe(bootScript.replace('RELEASE_VERSION=old', 'RELEASE_VERSION=v2'));
      expect(r.calls).toContainEqual(expect.stringMatching(new RegExp(`^aws ec2 create-launch-template-version --launch-template-id lt-${tier} --source-version 3 --version-description release v2 `)));
      const desired = JSON.parse(readFileSync(join(state, `refresh-conduit-prod-us-east-1-${tier}-1.json`), 'utf8'));
      expect(desired).toEqual({ LaunchTemplate: { LaunchTemplateId: `lt-${tier}`, Version: '4' } });
      const preferences = JSON.parse(readFileSync(join(state, `refresh-conduit-prod-us-east-1-${tier}-2.json`), 'utf8'));
      expect(preferences).toMatchObject({ AutoRollback: true, CheckpointDelay: 30, AlarmSpecification: { Alarms: [`conduit-prod-us-east-1-${tier}-5xx-percent`, `conduit-prod-us-east-1-${tier}-latency`] } });
    }
    expect(exported()).toMatchObject({ API_TEMPLATE_VERSION: '4', FRONT_TEMPLATE_VERSION: '4' });
    // A version that is not one refuses before any call.
    const bad = run('apply-version.sh', ['v2; rm -rf /'], { DEPLOY_SETTINGS: join(state, 'settings.json') });
    expect(bad.status).toBe(2);
    expect(bad.calls).toEqual([]);
  });

  it('wait-refresh.sh makes the new versions the default only when both refreshes succeeded', () => {
    const env = { DEPLOY_SETTINGS: join(work, 'state', 'settings.json'), API_TEMPLATE_VERSION: '4', FRONT_TEMPLATE_VERSION: '4' };
    const ok = run('wait-refresh.sh', [], { ...env, REFRESH_STATUS: 'Successful' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.calls.filter((c) => c.startsWith('aws ec2 modify-launch-template'))).toEqual([
      'aws ec2 modify-launch-template --launch-template-id lt-api --default-version 4',
      'aws ec2 modify-launch-template --launch-template-id lt-front --default-version 4',
    ]);
    const rolledBack = run('wait-refresh.sh', [], { ...env, REFRESH_STATUS: 'RollbackSuccessful' });
    expect(rolledBack.status).toBe(1);
    expect(rolledBack.stderr).toContain('conduit-prod-us-east-1-api refresh ended RollbackSuccessful: the group keeps the previous release');
    expect(rolledBack.calls.some((c) => c.startsWith('aws ec2 modify-launch-template'))).toBe(false);
  });

  it('upload-release.sh uploads each artifact and its release.json under the version', () => {
    const out = join(work, 'release');
    for (const tier of ['api', 'front']) {
      const stage = join(out, tier, 'stage');
      mkdirSync(stage, { recursive: true });
      writeFileSync(join(stage, 'release.json'), JSON.stringify({ tier, version: 'v2', files: [] }));
      execFileSync('tar', ['-czf', join(out, tier, 'current.tar.gz'), '-C', stage, '.']);
    }
    const r = run('upload-release.sh', [out, 'v2'], { RELEASES_BUCKET: 'conduit-prod-us-east-1-releases-abc' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('aws s3 cp'))).toEqual([
      `aws s3 cp --only-show-errors ${out}/api/release.json s3://conduit-prod-us-east-1-releases-abc/api/v2.release.json`,
      `aws s3 cp --only-show-errors ${out}/api/current.tar.gz s3://conduit-prod-us-east-1-releases-abc/api/v2.tar.gz`,
      `aws s3 cp --only-show-errors ${out}/front/release.json s3://conduit-prod-us-east-1-releases-abc/front/v2.release.json`,
      `aws s3 cp --only-show-errors ${out}/front/current.tar.gz s3://conduit-prod-us-east-1-releases-abc/front/v2.tar.gz`,
    ]);
    // An artifact built from another version is refused before anything is uploaded.
    const other = run('upload-release.sh', [out, 'v3'], { RELEASES_BUCKET: 'conduit-prod-us-east-1-releases-abc' });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('is release v2, not v3');
    expect(other.calls.some((c) => c.startsWith('aws s3 cp'))).toBe(false);
  });
});
