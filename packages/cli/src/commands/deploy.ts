// `tier deploy [--version V]` and `tier rollback`: rolling deploys of the running local region (@conduit/local).
import { RegionError, regionDeploy, regionRollback, type DeployReport } from '@conduit/local';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function run(ctx: CommandContext, action: 'deploy' | 'rollback'): Promise<number> {
  const { definition, stateDir } = await loadDefinition(ctx.flags.config);
  const version = typeof ctx.flags.version === 'string' ? ctx.flags.version : undefined;
  // --json: progress goes to stderr, the report alone to stdout.
  const progress = (line: string) => (ctx.flags.json ? process.stderr : process.stdout).write(`  · ${line}\n`);
  let r: DeployReport;
  try {
    r = action === 'rollback'
      ? await regionRollback({ definition, stateDir, progress })
      : await regionDeploy({ definition, stateDir, version, progress });
  } catch (e) {
    if (e instanceof RegionError) throw new CliError(e.message, 1);
    throw e;
  }
  if (ctx.flags.json) say(JSON.stringify(r, null, 2));
  else if (r.result === 'rolled back') say(`\n${action} of ${r.to} FAILED and was rolled back in ${r.seconds.toFixed(1)} s: ${r.error}\n(${r.history.result})`);
  else say(`\n${action} ${r.from ?? '(none)'} → ${r.to}: ${r.result === 'ok' ? `${r.replaced.length} instance(s) replaced` : 'every instance already ran it'} in ${r.seconds.toFixed(1)} s`);
  return r.result === 'rolled back' ? 1 : 0;
}

export const deploy = { run: (ctx: CommandContext) => run(ctx, 'deploy') };
export const rollback = { run: (ctx: CommandContext) => run(ctx, 'rollback') };
