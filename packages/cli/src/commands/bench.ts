// `tier bench capacity`: the capacity benchmark against the running local region (one API instance, stepped
// open-model load through the edge until the SLO breaks). Prints each step, writes the committed result the
// definition reads (packages/definition/capacity/api.json) and its chart (api.svg). No logic here: @conduit/drills does it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { readRegion, repoRoot } from '@conduit/local';
import { capacityChart, defaultCapacityOptions, formatCapacity, regionHandle, runCapacity } from '@conduit/drills';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

function numberFlag(ctx: CommandContext, name: string, fallback: number, min: number, max: number): number {
  const v = ctx.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < min || n > max) throw new CliError(`--${name} ${String(v)}: give a number from ${min} to ${max}`);
  return n;
}

export const bench = {
  async run(ctx: CommandContext): Promise<number> {
    const [which, ...extra] = ctx.args;
    if (which !== 'capacity' || extra.length > 0) {
      throw new CliError('usage: tier bench capacity [--start-rate N] [--step-seconds S] [--max-steps N] [--out DIR] [--config FILE]');
    }
    const o = {
      ...defaultCapacityOptions,
      startRate: numberFlag(ctx, 'start-rate', defaultCapacityOptions.startRate, 1, 2000),
      stepMs: numberFlag(ctx, 'step-seconds', defaultCapacityOptions.stepMs / 1000, 2, 60) * 1000,
      maxSteps: Math.round(numberFlag(ctx, 'max-steps', defaultCapacityOptions.maxSteps, 1, 40)),
      log: ctx.flags.json ? () => undefined : say,
    };
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    if (!readRegion(stateDir).supervisor?.running) {
      throw new CliError(`region "${definition.name}" is not running (state ${stateDir}): start it with \`npx tier up${ctx.flags.config ? ` --config ${ctx.flags.config}` : ''}\``, 1);
    }
    const result = await runCapacity(regionHandle(definition, stateDir), o);
    const dir = typeof ctx.flags.out === 'string' ? resolvePath(ctx.flags.out) : join(repoRoot, 'packages/definition/capacity');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'api.json'), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(dir, 'api.svg'), capacityChart(result));
    if (ctx.flags.json) say(JSON.stringify(result, null, 2));
    else say(`\n${formatCapacity(result, definition.scaling.targetUtilisation)}\n  wrote ${join(dir, 'api.json')} and api.svg (commit them: the definition reads api.json)`);
    return 0;
  },
};
