// The `tier synth|plan|apply aws` commands end to end, through the real CLI entry point.
// terraform/tofu cannot reach the provider registry here: plan runs against a stand-in binary that records its arguments.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const tier = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

describe('tier synth aws', () => {
  it('writes every stack of the complete example and prints resources per stack', () => {
    const out = mkdtempSync(join(tmpdir(), 'tier-synth-'));
    const r = tier(['synth', 'aws', '--config', 'examples/complete.config.ts', `--out=${out}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const stack of ['conduit-prod-state', 'conduit-prod-us-east-1', 'conduit-prod-us-west-2', 'conduit-prod-edge']) {
      expect(existsSync(join(out, 'stacks', stack, 'cdk.tf.json'))).toBe(true);
      expect(r.stdout).toMatch(new RegExp(`${stack}\\s+\\d+ resources`));
    }
    const time = /synthesized in ([\d.]+) s/.exec(r.stdout);
    expect(time).not.toBeNull();
    console.log(`complete example: ${r.stdout.trim().split('\n').at(-1)!.trim()}`);
  });

  it('asks for the target when it is missing', () => {
    const r = tier(['synth']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('tier: `tier synth` needs a target: run `tier synth aws`');
  });
});

describe('tier plan aws / tier apply aws', () => {
  it('stops with one line naming the missing binary when neither terraform nor tofu is on PATH', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-terraform-'));
    for (const verb of ['plan', 'apply']) {
      const r = tier([verb, 'aws', '--config', 'examples/complete.config.ts'], { PATH: empty });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tier: neither terraform nor tofu is on PATH: install OpenTofu .* or Terraform .*$/);
    }
  });

  it('runs init and plan in every stack folder, in apply order, with the binary found on PATH', () => {
    const bin = mkdtempSync(join(tmpdir(), 'fake-tofu-'));
    const log = join(bin, 'calls.log');
    writeFileSync(join(bin, 'tofu'), `#!/bin/sh\necho "$(basename "$PWD") $*" >> ${log}\n`);
    chmodSync(join(bin, 'tofu'), 0o755);
    const out = mkdtempSync(join(tmpdir(), 'tier-plan-'));
    const r = tier(['plan', 'aws', '--config', 'examples/minimal.config.ts', `--out=${out}`, '--domain=example.org', '--release-version=abc123'], { PATH: `${bin}:/usr/bin:/bin` });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls).toEqual([
      'conduit-state init -input=false',
      'conduit-state plan -input=false',
      'conduit-eu-west-1 init -input=false',
      'conduit-eu-west-1 plan -input=false -var domain=example.org -var release_version=abc123',
      'conduit-eu-central-1 init -input=false',
      'conduit-eu-central-1 plan -input=false -var domain=example.org -var release_version=abc123',
      'conduit-edge init -input=false',
      'conduit-edge plan -input=false -var domain=example.org',
    ]);
  });

  it('applies again after a re-synthesis: the bootstrap stack finds its own local state, first in order', () => {
    // A stand-in tofu that keeps state the way terraform does: the bootstrap stack's apply creates the state
    // bucket once and records it in ./terraform.tfstate; without that file it tries again and AWS refuses
    // (the bucket exists), which stops every later stack.
    const bin = mkdtempSync(join(tmpdir(), 'stateful-tofu-'));
    const aws = mkdtempSync(join(tmpdir(), 'fake-aws-'));
    const log = join(bin, 'calls.log');
    writeFileSync(join(bin, 'tofu'), [
      '#!/bin/sh',
      `echo "$(basename "$PWD") $1" >> ${log}`,
      '[ "$1" = apply ] || exit 0',
      'case "$PWD" in *-state)',
      '  if [ -f terraform.tfstate ]; then echo "No changes."; exit 0; fi',
      `  if [ -f ${aws}/state-bucket ]; then echo "Error: creating S3 Bucket: BucketAlreadyOwnedByYou" >&2; exit 1; fi`,
      `  touch ${aws}/state-bucket; echo '{"resources":["state bucket"]}' > terraform.tfstate;;`,
      'esac',
    ].join('\n') + '\n');
    chmodSync(join(bin, 'tofu'), 0o755);
    const out = mkdtempSync(join(tmpdir(), 'tier-apply-'));
    const apply = () => tier(['apply', 'aws', '--config', 'examples/single-region.config.ts', `--out=${out}`, '--domain=example.org', '--release-version=abc123', '--yes'], { PATH: `${bin}:/usr/bin:/bin` });
    const first = apply();
    expect(first.status, first.stderr).toBe(0);
    const second = apply();
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    expect(existsSync(join(out, 'stacks', 'conduit-small-state', 'terraform.tfstate'))).toBe(true);
    const applies = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.endsWith(' apply'));
    expect(applies).toEqual(['conduit-small-state', 'conduit-small-eu-west-1', 'conduit-small-edge', 'conduit-small-state', 'conduit-small-eu-west-1', 'conduit-small-edge'].map((s) => `${s} apply`));
  });

  it('needs a domain when the definition has none', () => {
    const bin = mkdtempSync(join(tmpdir(), 'fake-terraform-'));
    writeFileSync(join(bin, 'terraform'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'terraform'), 0o755);
    const out = mkdtempSync(join(tmpdir(), 'tier-plan-'));
    const r = tier(['plan', 'aws', '--config', 'examples/minimal.config.ts', `--out=${out}`], { PATH: `${bin}:/usr/bin:/bin` });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tier: edge\.domain is not set: pass --domain=example\.com/);
    // And the release the launch templates install: never guessed, never `current`.
    const v = tier(['plan', 'aws', '--config', 'examples/minimal.config.ts', `--out=${out}`, '--domain=example.org'], { PATH: `${bin}:/usr/bin:/bin` });
    expect(v.status).toBe(2);
    expect(v.stderr.trim()).toMatch(/^tier: pass --release-version=<version>: the release the instances install/);
  });
});
