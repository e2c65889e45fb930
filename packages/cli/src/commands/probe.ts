// `tier probe`: write-then-read consistency probes and the edge hit ratio on hot anonymous reads, through
// the edge of the running local region. No logic here: @conduit/drills does it.
import { readRegion } from '@conduit/local';
import { edgeHitRatio, formatHitRatio, formatProbe, probeConsistency, regionHandle } from '@conduit/drills';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

function count(flag: string | boolean | undefined, name: string, fallback: number, max: number): number {
  if (flag === undefined) return fallback;
  const n = Number(flag);
  if (typeof flag !== 'string' || !Number.isInteger(n) || n < 0 || n > max) throw new CliError(`--${name} must be an integer from 0 to ${max} (got ${String(flag)})`);
  return n;
}

export const probe = {
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.length > 0) throw new CliError('usage: tier probe [--pairs N] [--hit-seconds S] [--json] [--config FILE]');
    const pairs = count(ctx.flags.pairs, 'pairs', 1000, 100_000);
    const hitSeconds = count(ctx.flags['hit-seconds'], 'hit-seconds', 10, 120);
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    const snap = readRegion(stateDir);
    if (!snap.supervisor?.running) {
      throw new CliError(`region "${definition.name}" is not running (state ${stateDir}): start it with \`npx tier up${ctx.flags.config ? ` --config ${ctx.flags.config}` : ''}\``, 1);
    }
    const { edge } = regionHandle(definition, stateDir);
    const instances = snap.processes.filter((p) => p.tier === 'api' && p.port !== null).map((p) => ({ name: p.name, url: `http://127.0.0.1:${p.port}` }));
    const log = ctx.flags.json ? () => undefined : say;
    const hits = hitSeconds > 0 ? await edgeHitRatio({ edge, durationMs: hitSeconds * 1000 }) : null;
    if (hits) formatHitRatio(hits).forEach((l) => log(l));
    const report = pairs > 0
      ? await probeConsistency({ edge, pairs, instances, rateLimits: definition.api.rateLimits, onProgress: (n, stale) => { if (n % 100 === 0) log(`  ${n}/${pairs} pairs, ${stale} stale`); } })
      : null;
    if (report) formatProbe(report).forEach((l) => log(l));
    if (ctx.flags.json) say(JSON.stringify({ hitRatio: hits, consistency: report }, null, 2));
    return report && (report.stale > 0 || report.errors > 0) ? 1 : 0;
  },
};
