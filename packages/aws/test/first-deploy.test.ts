// The first deploy, run for real with stand-ins for tofu and aws that record what they were asked and answer
// outputs: the groups start only after the release and the database user exist, the edge comes last.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { synthesize } from '../src/app.js';
import { examples } from './helpers.js';

describe('first-deploy.sh', () => {
  it('applies state, regions without instances, uploads the release, creates the app user, starts the groups, migrates, then the edge', () => {
    const out = mkdtempSync(join(tmpdir(), 'first-deploy-'));
    synthesize(resolve(examples.complete!), out);
    const bin = join(out, 'bin');
    mkdirSync(bin);
    const log = join(out, 'calls.log');
    const standIn = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $(basename "$PWD") $*" >> ${log}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    standIn('tofu', '[ "$1" = output ] && echo "out-$(basename "$PWD")-$3"; exit 0');
    standIn('aws', [
      'case "$1 $2" in',
      '  "secretsmanager get-secret-value") echo AppPassw0rd;;',
      '  "autoscaling describe-auto-scaling-groups") echo i-0123;;',
      '  "ssm send-command") echo cmd-1;;',
      'esac',
    ].join('\n'));
    const release = join(out, 'release');
    for (const t of ['api', 'front']) {
      const stage = join(release, t, 'stage');
      mkdirSync(stage, { recursive: true });
      writeFileSync(join(stage, 'release.json'), JSON.stringify({ tier: t, version: 'abc123', files: [] }));
      execFileSync('tar', ['-czf', join(release, t, 'current.tar.gz'), '-C', stage, '.']);
    }
    const r = spawnSync('bash', [join(out, 'first-deploy.sh')], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, RELEASE_DIR: release, HOME: out } });
    expect(r.status, r.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    const at = (pattern: RegExp) => {
      const i = calls.findIndex((c) => pattern.test(c));
      expect(i, `${pattern} in\n${calls.join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      at(/^aws .* iam create-service-linked-role --aws-service-name opensearchservice\.amazonaws\.com$/),
      at(/^tofu conduit-prod-state apply/),
      at(/^tofu conduit-prod-us-east-1 apply .*-var release_version=abc123 -var launch_instances=false$/),
      at(/^tofu conduit-prod-us-west-2 apply .*-var launch_instances=false$/),
      // Under the version, never as `current`: the launch templates name the version.
      at(/^aws .* s3 cp .*api\/abc123\.release\.json s3:\/\/out-conduit-prod-us-east-1-releases_bucket\/api\/abc123\.release\.json$/),
      at(/^aws .* s3 cp .*api\/current\.tar\.gz s3:\/\/out-conduit-prod-us-east-1-releases_bucket\/api\/abc123\.tar\.gz$/),
      at(/^aws .* s3 cp .*front\/current\.tar\.gz s3:\/\/out-conduit-prod-us-west-2-releases_bucket\/front\/abc123\.tar\.gz$/),
      at(/^aws .* rds-data execute-statement --region us-east-1 --resource-arn out-conduit-prod-us-east-1-db_cluster_arn --secret-arn out-conduit-prod-us-east-1-db_master_secret_arn --sql CREATE USER IF NOT EXISTS 'conduit_app'@'%' IDENTIFIED BY 'AppPassw0rd' REQUIRE SSL$/),
      at(/^aws .* rds-data execute-statement .* --sql GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON `conduit`\.\* TO 'conduit_app'@'%'$/),
      at(/^tofu conduit-prod-us-east-1 apply .*-var release_version=abc123 -var launch_instances=true$/),
      at(/^tofu conduit-prod-us-west-2 apply .*-var launch_instances=true$/),
      at(/^aws .* ssm send-command --region us-east-1 --instance-ids i-0123 --document-name conduit-prod-migrate --parameters version=abc123 /),
      at(/^tofu conduit-prod-edge apply .*-var domain=conduit\.example\.com$/),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('stops with one line when the release was not built', () => {
    const out = mkdtempSync(join(tmpdir(), 'first-deploy-'));
    synthesize(resolve(examples.complete!), out);
    const bin = join(out, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tofu'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'tofu'), 0o755);
    const r = spawnSync('bash', [join(out, 'first-deploy.sh')], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, RELEASE_DIR: out } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^first-deploy: .*api\/current\.tar\.gz is missing: run npx tier release$/);
  });
});
