// `tier synth aws`, `tier plan aws`, `tier apply aws`, `tier cost aws`: load the definition, synthesize the stacks with
// @conduit/aws, and (plan/apply) run terraform or tofu over each stack folder in apply order.
// Options: --config FILE, --out DIR (default <definition dir>/out/aws), --json (synth summary as JSON),
// --domain NAME (plan/apply when edge.domain is unset), --release-version V (plan/apply: the release the launch
// templates install), --yes (apply without terraform's prompt).
import { spawnSync } from 'node:child_process';
import { dirname, resolve as resolvePath } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';
import { loadDefinition } from '../load-definition.js';

function requireAwsTarget(verb: string, ctx: CommandContext): void {
  const target = ctx.args[0];
  if (target !== 'aws') throw new CliError(`\`tier ${verb}\` needs a target: run \`tier ${verb} aws\``);
}

/** A string option of this command (--name value or --name=value); empty means unset. */
function option(ctx: CommandContext, name: string, example: string): string | undefined {
  const v = ctx.flags[name];
  if (v === true) throw new CliError(`--${name} needs a value: write --${name}=${example}`);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function load(ctx: CommandContext) {
  return loadDefinition(ctx.flags.config);
}

async function synthesizeFromFlags(ctx: CommandContext, loaded?: Awaited<ReturnType<typeof load>>) {
  const { file, definition } = loaded ?? (await load(ctx));
  const out = option(ctx, 'out', 'DIR');
  // default: out/aws beside the definition (git-ignored), apart from the local region's state folder.
  const outdir = out ? resolvePath(out) : resolvePath(dirname(file), 'out', 'aws');
  const aws = await import('@conduit/aws');
  const summary = aws.synthesize(definition, outdir);
  const settings = aws.awsSettings(definition);
  return { aws, summary, settings, definition };
}

export const synth = {
  async run(ctx: CommandContext): Promise<number> {
    requireAwsTarget('synth', ctx);
    const { summary } = await synthesizeFromFlags(ctx);
    if (ctx.flags.json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
      return 0;
    }
    const width = Math.max(...Object.keys(summary.resources).map((s) => s.length));
    const total = Object.values(summary.resources).reduce((a, b) => a + b, 0);
    process.stdout.write(
      [
        `Terraform JSON written to ${summary.outdir}/stacks (apply in this order):`,
        ...Object.entries(summary.resources).map(([stack, n]) => `  ${stack.padEnd(width)}  ${String(n).padStart(4)} resources`),
        `  ${'total'.padEnd(width)}  ${String(total).padStart(4)} resources, synthesized in ${(summary.durationMs / 1000).toFixed(2)} s`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

function runTerraform(action: 'plan' | 'apply') {
  return {
    async run(ctx: CommandContext): Promise<number> {
      requireAwsTarget(action, ctx);
      const { findTerraformBinary, terraformCommands, MISSING_BINARY } = await import('@conduit/aws/terraform');
      const binary = findTerraformBinary();
      if (!binary) throw new CliError(MISSING_BINARY);
      const loaded = await load(ctx);
      const domain = option(ctx, 'domain', 'example.com');
      if (!loaded.definition.edge.domain && !domain) {
        throw new CliError('edge.domain is not set: pass --domain=example.com (a domain with a Route 53 hosted zone in the account) or set edge.domain in the definition');
      }
      const releaseVersion = option(ctx, 'release-version', '<git commit>');
      if (!releaseVersion) {
        throw new CliError('pass --release-version=<version>: the release the instances install (the one running now, unless you are deploying one; new releases go out through .github/workflows/deploy.yml)');
      }
      const { aws, summary, settings } = await synthesizeFromFlags(ctx, loaded);
      const order = [settings.stackNames.state, ...settings.stackNames.regions, settings.stackNames.edge];
      const steps = terraformCommands(action, binary, aws.stackDirs(summary.outdir, order), { domain, releaseVersion, autoApprove: ctx.flags.yes === true });
      for (const step of steps) {
        process.stdout.write(`\n$ (cd ${step.cwd} && ${step.argv.join(' ')})\n`);
        const r = spawnSync(step.argv[0]!, step.argv.slice(1), { cwd: step.cwd, stdio: 'inherit' });
        if (r.status !== 0) throw new CliError(`${binary.name} ${step.argv[1]} failed in ${step.cwd} (exit ${r.status ?? r.signal}): fix the error above and run \`tier ${action} aws\` again`, r.status ?? 1);
      }
      return 0;
    },
  };
}

export const plan = runTerraform('plan');
export const apply = runTerraform('apply');

export const cost = {
  async run(ctx: CommandContext): Promise<number> {
    requireAwsTarget('cost', ctx);
    const { definition } = await load(ctx);
    const aws = await import('@conduit/aws');
    let report;
    try {
      report = aws.estimateCost(definition);
    } catch (e) {
      if (e instanceof aws.CostError) throw new CliError(e.message);
      throw e;
    }
    process.stdout.write(ctx.flags.json ? JSON.stringify(report, null, 2) + '\n' : aws.formatCost(report));
    return 0;
  },
};
