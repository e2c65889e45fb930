// `tier up|down|destroy|status|logs`: loads the definition and hands over to @conduit/local.
import {
  RegionError, demoLogin, regionLogs, followLog, formatStatusTable, formatTierLines, endpoints,
  localRegions, regionFailoverNow, regionRejoin, regionSwitchover, regionsUp, regionsDown, regionsDestroy, regionsStatus, formatRegionsLines,
} from '@conduit/local';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stdout.write(`  · ${line}\n`);

async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RegionError) throw new CliError(e.message, 1);
    throw e;
  }
}

export const up = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir, file } = await loadDefinition(ctx.flags.config);
    const regions = localRegions(definition, stateDir);
    say(`tier up: "${definition.name}" (${file}), ${regions.map((r) => `${r.definition.regionName} on ${r.definition.address}`).join(' and ')}, state in ${stateDir}`);
    const all = await userErrors(() => regionsUp({ definition, stateDir, configFile: file, progress }));
    if (all.regions.every((r) => r.result.alreadyRunning)) {
      say(`"${definition.name}" is already running: see \`npx tier status\`; \`npx tier down\` stops it`);
      return 0;
    }
    const s = await regionsStatus(definition, stateDir);
    say(`\n"${definition.name}" is up in ${all.seconds.toFixed(1)} s (${all.regions.map((r) => `${r.definition.regionName}: supervisor pid ${r.result.pid}`).join(', ')})`);
    for (const [i, r] of all.regions.entries()) {
      const e = endpoints(r.definition);
      const rs = s.regions[i]!;
      say(`\nregion ${r.definition.regionName} (${rs.role?.role ?? r.role}) on ${r.definition.address}`);
      if (e.console) say(`  console     ${e.console}   (topology, charts, log search, alerts)`);
      say(`  site        ${e.edge}`);
      say(`  API docs    ${e.apiDocs}`);
      say(`  Prometheus  ${e.prometheus}`);
      say(`  HAProxy     ${e.lbStats}`);
      for (const l of formatTierLines(rs)) say(`  ${l}`);
    }
    const login = demoLogin(stateDir);
    if (login) say(`\n  demo login  ${login}`);
    const extra = formatRegionsLines(s);
    if (extra.length) say('');
    for (const l of extra) say(l);
    say('\n`npx tier status` for every process, `npx tier logs [component]`, `npx tier down` to stop (keeps data).');
    return 0;
  },
};

export const down = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    const r = await userErrors(() => regionsDown(stateDir, progress));
    say(r.wasRunning || r.leftovers > 0
      ? `region "${definition.name}" stopped in ${r.seconds.toFixed(1)} s; data kept in ${stateDir}`
      : `region "${definition.name}" was not running`);
    return 0;
  },
};

export const destroy = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    await userErrors(() => regionsDestroy(stateDir, progress));
    say(`region "${definition.name}" destroyed: ${stateDir} wiped`);
    return 0;
  },
};

export const status = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    const all = await regionsStatus(definition, stateDir);
    // --json is for programs: they read `healthy` and `running`, and exit 0 means "the status was read".
    // One region prints its status as it always did; two regions print {regions, crossRegion, dns, healthy}.
    // The table is for people and scripts: exit 0 only when every process is healthy.
    if (ctx.flags.json) {
      say(JSON.stringify(all.regions.length === 1 ? all.regions[0] : all, null, 2));
      return 0;
    }
    for (const s of all.regions) {
      if (all.regions.length > 1) say(`\n== ${s.region} on ${s.address}: ${s.role?.role ?? '?'}${s.role ? ` (cache generation ${s.role.cacheGeneration}; ${s.role.why})` : ''}`);
      say(formatStatusTable(s));
      if (s.endpoints.console) say(`ops console: ${s.endpoints.console}`);
    }
    const extra = formatRegionsLines(all);
    if (extra.length) say('');
    for (const l of extra) say(l);
    return all.healthy ? 0 : 1;
  },
};

export const logs = {
  async run(ctx: CommandContext): Promise<number> {
    const { stateDir } = await loadDefinition(ctx.flags.config);
    const lines = typeof ctx.flags.lines === 'string' ? Number(ctx.flags.lines) : 100;
    say(await userErrors(async () => regionLogs(stateDir, ctx.args[0], Number.isFinite(lines) ? lines : 100)));
    const component = ctx.args[0];
    if (!ctx.flags.follow || !component) return 0;
    // --follow: keep printing what the component appends until Ctrl-C.
    const stop = await userErrors(async () => followLog(stateDir, component, (text) => process.stdout.write(text)));
    await new Promise<void>((resolve) => process.once('SIGINT', () => { stop(); resolve(); }));
    return 0;
  },
};

export const region = {
  async run(ctx: CommandContext): Promise<number> {
    const [what, ...extra] = ctx.args;
    if ((what !== 'failover' && what !== 'switchover' && what !== 'rejoin') || extra.length > 0) {
      throw new CliError('usage: tier region failover|switchover|rejoin [--config FILE] (failover: promote the standby now; switchover: swap the roles, nothing lost; rejoin: the fenced old writer region follows the new one)');
    }
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    if (what === 'failover') {
      say(await userErrors(() => regionFailoverNow(definition, stateDir)));
      return 0;
    }
    if (what === 'rejoin') {
      const r = await userErrors(() => regionRejoin(definition, stateDir, progress));
      say(`${r.region} rejoined as the standby of ${r.writerRegion} in ${r.ms} ms: ${r.errantTransactions} errant transaction(s) saved${r.files.length ? ` (${r.files.join(', ')})` : ''}; cache generation ${r.cacheGeneration}`);
      return 0;
    }
    const r = await userErrors(() => regionSwitchover(definition, stateDir, progress));
    say(`switchover ${r.from} → ${r.to}: writes paused ${r.writePauseMs} ms (caught up in ${r.caughtUpMs} ms at GTID ${r.gtid}); ${r.sentence}`);
    return 0;
  },
};
