// The `tier` command: parses arguments, loads the definition, hands over to a package. No logic of its own.
import { parseArgs } from 'node:util';
import { DefinitionError } from '@conduit/definition';
import { CliError } from './cli-error.js';

import type { Command as CommandModule, CommandContext } from './command.js';

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;
const awsOptions: OptionSpec = { out: { type: 'string' }, domain: { type: 'string' }, 'release-version': { type: 'string' }, yes: { type: 'boolean' } };

// Loaded lazily: `tier synth aws` must not pay for the local region's modules and vice versa.
// Each command declares its own options, so a mistyped flag is an error instead of being ignored.
const commands: Record<string, { summary: string; options?: OptionSpec; load: () => Promise<CommandModule> }> = {
  up: { summary: 'bring the local region up (installs, generates configs, starts, migrates, seeds)', load: () => import('./commands/region.js').then((m) => m.up) },
  down: { summary: 'stop the local region gracefully, keeping its data', load: () => import('./commands/region.js').then((m) => m.down) },
  destroy: { summary: 'stop the local region and wipe its state folder', load: () => import('./commands/region.js').then((m) => m.destroy) },
  status: { summary: 'every process with tier, zone, pid, port and health (--json for machines)', load: () => import('./commands/region.js').then((m) => m.status) },
  logs: {
    summary: 'print the logs of the region or of one component: tier logs [component] [--lines N] [--follow]',
    options: { lines: { type: 'string' }, follow: { type: 'boolean' } },
    load: () => import('./commands/region.js').then((m) => m.logs),
  },
  synth: { summary: 'write Terraform JSON for every AWS stack: tier synth aws [--out DIR]', options: awsOptions, load: () => import('./commands/aws.js').then((m) => m.synth) },
  plan: { summary: 'terraform/tofu plan of the synthesized stacks: tier plan aws --release-version V [--domain NAME]', options: awsOptions, load: () => import('./commands/aws.js').then((m) => m.plan) },
  apply: { summary: 'terraform/tofu apply of the synthesized stacks: tier apply aws --release-version V [--yes]', options: awsOptions, load: () => import('./commands/aws.js').then((m) => m.apply) },
  diagram: {
    summary: 'write the topology of the definition as SVG: tier diagram [--out FILE] (default docs/topology.svg)',
    options: { out: { type: 'string' } },
    load: () => import('./commands/diagram.js').then((m) => m.diagram),
  },
  cost: { summary: 'monthly AWS estimate per region and in total from the definition: tier cost aws [--json]', load: () => import('./commands/aws.js').then((m) => m.cost) },
  release: {
    summary: 'build the AWS release artifacts api/current.tar.gz and front/current.tar.gz: tier release [--out DIR]',
    options: { out: { type: 'string' } },
    load: () => import('./commands/release.js').then((m) => m.release),
  },
  deploy: {
    summary: 'rolling deploy of a release to the running region, canary and automatic rollback: tier deploy [--version V] [--json]',
    options: { version: { type: 'string' } },
    load: () => import('./commands/deploy.js').then((m) => m.deploy),
  },
  rollback: {
    summary: 'roll the running region back to the previous release, same rolling procedure: tier rollback [--json]',
    load: () => import('./commands/deploy.js').then((m) => m.rollback),
  },
  region: {
    summary: 'two regions: tier region failover (promote the standby now) | switchover (swap the roles, nothing lost) | rejoin (the fenced old writer region becomes the standby)',
    load: () => import('./commands/region.js').then((m) => m.region),
  },
  drill: {
    summary: 'run a failure drill under live traffic: tier drill <scenario>|all|dr|scale-out|region-loss|region-failback|region-switchover [--short]',
    options: { short: { type: 'boolean' } },
    load: () => import('./commands/drill.js').then((m) => m.drill),
  },
  backup: {
    summary: 'backups of the local region: tier backup now | list | verify (restore latest + binlogs into a throwaway server, compare checksums)',
    load: () => import('./commands/backup.js').then((m) => m.backup),
  },
  seed: {
    summary: 'generated Conduit data on the running region for restore measurements: tier seed --size 1GB',
    options: { size: { type: 'string' } },
    load: () => import('./commands/backup.js').then((m) => m.seed),
  },
  restore: {
    summary: 'restore the local region from its backups: tier restore --to <latest | ISO time | GTID> [--force] (works on a destroyed region)',
    options: { to: { type: 'string' }, force: { type: 'boolean' } },
    load: () => import('./commands/backup.js').then((m) => m.restore),
  },
  bench: {
    summary: 'capacity benchmark of one API instance through the edge; writes the knee the definition reads: tier bench capacity [--start-rate N] [--step-seconds S] [--max-steps N] [--out DIR]',
    options: { 'start-rate': { type: 'string' }, 'step-seconds': { type: 'string' }, 'max-steps': { type: 'string' }, out: { type: 'string' } },
    load: () => import('./commands/bench.js').then((m) => m.bench),
  },
  probe: {
    summary: 'write-then-read consistency probes and the edge hit ratio, through the edge: tier probe [--pairs N] [--hit-seconds S]',
    options: { pairs: { type: 'string' }, 'hit-seconds': { type: 'string' } },
    load: () => import('./commands/probe.js').then((m) => m.probe),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: tier <command> [args] [--config stack.config.ts] [--json]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${name}": run \`tier --help\` for the list`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { config: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false }, ...command.options },
    });
  } catch (e) {
    // node's messages are one line already ("Unknown option '--outt'..."); keep the first sentence.
    throw new CliError(`${name}: ${(e as Error).message.split('. ')[0]}: run \`tier ${name} --help\``);
  }
  const flags = parsed.values as CommandContext['flags'];
  if (flags.help) {
    const extra = Object.keys(command.options ?? {}).map((o) => `--${o}`);
    process.stdout.write(`tier ${name}: ${command.summary}\noptions: --config FILE, --json${extra.length ? ', ' + extra.join(', ') : ''}\n`);
    return 0;
  }
  const mod = await command.load();
  return mod.run({ args: parsed.positionals, flags });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof CliError) {
      process.stderr.write(`tier: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    if (e instanceof DefinitionError) {
      process.stderr.write(`tier: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tier: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
