// The pipeline in .github/ checked against the repository and the definition, and each check shown to
// fail on a pipeline broken the way a careless edit would break it.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from '@conduit/definition';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import stackConfig from '../../../stack.config.ts';
import { checkPipeline, lintWorkflows, loadPipeline, type Pipeline } from '../src/index.js';

const root = resolvePath(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const def = resolve(stackConfig);

// The real command list, from the CLI itself: a workflow calling a command that was renamed fails here.
const tierCommands = execFileSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), '--help'], { encoding: 'utf8' })
  .split('\n')
  .map((line) => /^ {2}([a-z-]+)\s/.exec(line)?.[1])
  .filter((c): c is string => c !== undefined);

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the pipeline files (and what they reference) to break on purpose. */
function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
  scratch.push(dir);
  for (const path of ['.github', 'scripts', 'package.json']) cpSync(join(root, path), join(dir, path), { recursive: true });
  return dir;
}

function editYaml(dir: string, file: string, edit: (doc: any) => void) {
  const path = join(dir, '.github/workflows', file);
  const doc = parse(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, stringify(doc));
}

const problemsOf = (p: Pipeline) => checkPipeline(p, def, tierCommands);

describe('the delivery pipeline', () => {
  it('reads the CLI command list', () => {
    expect(tierCommands).toEqual(expect.arrayContaining(['up', 'release', 'synth', 'drill']));
  });

  it('as committed, has no problem', () => {
    expect(problemsOf(loadPipeline(root))).toEqual([]);
  });

  it('passes actionlint, which finds a broken expression', async () => {
    expect(await lintWorkflows(root)).toEqual([]);
    const dir = copyRepo();
    editYaml(dir, 'ci.yml', (doc) => {
      doc.jobs.release.steps.push({ run: 'echo ${{ github.no_such_field }}' });
    });
    expect(await lintWorkflows(dir)).toContainEqual(expect.stringMatching(/ci\.yml:\d+:\d+: property "no_such_field" is not defined/));
  });

  it('CI runs the README test command on Debian 12 with Node 20', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/^npm test\b/m);
    const ci = loadPipeline(root).workflows.find((w) => w.file.endsWith('ci.yml'))!;
    const test = Object.values(ci.jobs).find((j) => j.steps?.some((s) => s.run === 'npm test'))!;
    expect(test.container).toBe('debian:12');
  });

  it('sets up the shipped Node.js (delivery.nodeMajor) in CI and deploys, and keeps a job on the engines floor', () => {
    expect(def.delivery.nodeMajor).toBe(22);
    const dir = copyRepo();
    editYaml(dir, 'ci.yml', (doc) => {
      doc.jobs.test.steps.find((s: any) => s.uses?.startsWith('actions/setup-node@')).with['node-version'] = 20;
      delete doc.jobs.node20;
    });
    editYaml(dir, 'deploy-region.yml', (doc) => {
      doc.jobs.rollout.steps.find((s: any) => s.uses?.startsWith('actions/setup-node@')).with['node-version'] = 20;
    });
    expect(problemsOf(loadPipeline(dir))).toEqual([
      'ci.yml job test sets up Node.js 20, not 22 (delivery.nodeMajor: what the AWS instances run)',
      'ci.yml has no job that type-checks on Node.js 20 (package.json engines), while the shipped runtime is 22',
      '.github/workflows/deploy-region.yml job rollout sets up Node.js 20, not 22 (delivery.nodeMajor)',
      'the ruleset requires check "node 20 (engines floor)", which no ci.yml job is named',
    ]);
    // The definition is the one value: pick 20 and the committed workflows are named as wrong.
    const on20 = resolve({ ...stackConfig, delivery: { ...stackConfig.delivery, nodeMajor: 20 } });
    expect(checkPipeline(loadPipeline(root), on20, tierCommands)).toContainEqual('ci.yml job test sets up Node.js 22, not 20 (delivery.nodeMajor: what the AWS instances run)');
  });

  it('reviews the dependencies of every pull request (actions/dependency-review-action)', () => {
    const dir = copyRepo();
    editYaml(dir, 'ci.yml', (doc) => {
      delete doc.jobs['dependency-review'];
    });
    expect(problemsOf(loadPipeline(dir))).toContainEqual('ci.yml has no dependency review (actions/dependency-review-action) of pull requests');
  });

  it('never runs Terraform in a deploy (its state holds secrets the deploy role may not read)', () => {
    const dir = copyRepo();
    editYaml(dir, 'deploy-region.yml', (doc) => {
      doc.jobs.rollout.steps.push({ run: 'terraform -chdir=out/aws/stacks/x apply -auto-approve' });
    });
    expect(problemsOf(loadPipeline(dir))).toEqual(['deploy-region.yml job rollout runs Terraform (its state holds secrets the deploy role may not read): read the deploy parameter instead']);
  });

  it('every deploy script parses as bash', () => {
    for (const script of ['outputs', 'upload-release', 'migrate', 'apply-version', 'wait-refresh']) {
      execFileSync('bash', ['-n', join(root, 'scripts/deploy', `${script}.sh`)]);
    }
  });

  it('names a missing or non-executable script', () => {
    const dir = copyRepo();
    rmSync(join(dir, 'scripts/deploy/migrate.sh'));
    chmodSync(join(dir, 'scripts/deploy/wait-refresh.sh'), 0o644);
    const problems = problemsOf(loadPipeline(dir));
    expect(problems).toContainEqual(expect.stringContaining('runs scripts/deploy/migrate.sh, which does not exist'));
    expect(problems).toContainEqual(expect.stringContaining('scripts/deploy/wait-refresh.sh is not executable'));
  });

  it('names an unknown tier command, an unknown npm script and an unpinned action', () => {
    const dir = copyRepo();
    editYaml(dir, 'ci.yml', (doc) => {
      doc.jobs.release.steps.push({ run: 'npx tier publish' }, { run: 'npm run lint' }, { uses: 'some/action@main' });
    });
    const problems = problemsOf(loadPipeline(dir));
    expect(problems).toContainEqual(expect.stringContaining('`tier publish` is not a tier command'));
    expect(problems).toContainEqual(expect.stringContaining('`npm run lint` has no script in package.json'));
    expect(problems).toContainEqual(expect.stringContaining('action some/action@main is not pinned'));
  });

  it('production follows the definition\'s regions, one at a time after staging', () => {
    const dir = copyRepo();
    editYaml(dir, 'deploy.yml', (doc) => {
      doc.jobs['production-eu-central-1'].needs = ['build', 'staging'];
    });
    expect(problemsOf(loadPipeline(dir))).toEqual(['deploy.yml job production-eu-central-1 does not wait for production-eu-west-1']);

    const other = resolve({ ...stackConfig, regions: { primary: 'us-east-1', secondary: 'us-west-2' } });
    expect(checkPipeline(loadPipeline(root), other, tierCommands)).toContainEqual(
      'deploy.yml rolls production out to [eu-west-1, eu-central-1]; the definition\'s regions are [us-east-1, us-west-2] (primary first)',
    );
  });

  it('refuses long-lived AWS keys and a second release build', () => {
    const dir = copyRepo();
    editYaml(dir, 'deploy-region.yml', (doc) => {
      doc.jobs.rollout.steps.find((s: any) => s.uses?.startsWith('aws-actions/')).with = { 'aws-access-key-id': '${{ secrets.KEY }}' };
    });
    editYaml(dir, 'deploy.yml', (doc) => {
      doc.jobs.build2 = { 'runs-on': 'ubuntu-latest', steps: [{ run: 'npx tier release' }] };
    });
    const problems = problemsOf(loadPipeline(dir));
    expect(problems).toContainEqual(expect.stringContaining('uses long-lived AWS keys'));
    expect(problems).toContainEqual('deploy-region.yml job rollout does not assume a role through OIDC');
    expect(problems).toContainEqual('deploy.yml builds the release in 2 jobs; it must build it exactly once');
  });

  it('the ruleset requires two reviews and checks named as CI names its jobs', () => {
    const dir = copyRepo();
    const ruleset = join(dir, '.github/rulesets/main.json');
    const doc = JSON.parse(readFileSync(ruleset, 'utf8'));
    doc.rules.find((r: any) => r.type === 'pull_request').parameters.required_approving_review_count = 1;
    doc.rules = doc.rules.filter((r: any) => r.type !== 'non_fast_forward');
    doc.rules.find((r: any) => r.type === 'required_status_checks').parameters.required_status_checks.push({ context: 'lint' });
    writeFileSync(ruleset, JSON.stringify(doc));
    expect(problemsOf(loadPipeline(dir))).toEqual([
      'the ruleset requires 1 approving review(s); the seed asks for 2',
      'the ruleset allows force pushes to main (no non_fast_forward rule)',
      'the ruleset requires check "lint", which no ci.yml job is named',
    ]);
  });

  it('a reusable workflow gets exactly the inputs it declares', () => {
    const dir = copyRepo();
    editYaml(dir, 'deploy.yml', (doc) => {
      delete doc.jobs.staging.with.version;
      doc.jobs.staging.with.colour = 'blue';
    });
    expect(problemsOf(loadPipeline(dir))).toEqual([
      '.github/workflows/deploy.yml job staging: input "colour" is not declared by .github/workflows/deploy-region.yml',
      '.github/workflows/deploy.yml job staging: required input "version" of .github/workflows/deploy-region.yml is missing',
    ]);
  });
});
