// `tier up|down|destroy|status|logs`: loads the definition and hands over to @conduit/local.
import {
  RegionError, regionUp, demoLogin, regionDown, regionDestroy, regionStatus, regionLogs, followLog, formatStatusTable, formatTierLines, endpoints,
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
    say(`tier up: region "${definition.name}" (${file}), state in ${stateDir}`);
    const r = await userErrors(() => regionUp({ definition, stateDir, configFile: file, progress }));
    if (r.alreadyRunning) {
      say(`region "${definition.name}" is already running (supervisor pid ${r.pid}): see \`npx tier status\`; \`npx tier down\` stops it`);
      return 0;
    }
    const s = await regionStatus(definition, stateDir);
    const e = endpoints(definition);
    say(`\nregion "${definition.name}" is up in ${r.seconds.toFixed(1)} s (supervisor pid ${r.pid})`);
    if (e.console) say(`  console     ${e.console}   (topology, charts, log search, alerts)`);
    say(`  site        ${e.edge}`);
    say(`  API docs    ${e.apiDocs}`);
    say(`  Prometheus  ${e.prometheus}`);
    say(`  HAProxy     ${e.lbStats}`);
    const login = demoLogin(stateDir);
    if (login) say(`  demo login  ${login}`);
    say('');
    for (const l of formatTierLines(s)) say(`  ${l}`);
    say('\n`npx tier status` for every process, `npx tier logs [component]`, `npx tier down` to stop (keeps data).');
    return 0;
  },
};

export const down = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    const r = await userErrors(() => regionDown(stateDir, progress));
    say(r.wasRunning || r.leftovers > 0
      ? `region "${definition.name}" stopped in ${r.seconds.toFixed(1)} s; data kept in ${stateDir}`
      : `region "${definition.name}" was not running`);
    return 0;
  },
};

export const destroy = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    await userErrors(() => regionDestroy(stateDir, progress));
    say(`region "${definition.name}" destroyed: ${stateDir} wiped`);
    return 0;
  },
};

export const status = {
  async run(ctx: CommandContext): Promise<number> {
    const { definition, stateDir } = await loadDefinition(ctx.flags.config);
    const s = await regionStatus(definition, stateDir);
    // --json is for programs: they read `healthy` and `running`, and exit 0 means "the status was read".
    // The table is for people and scripts: exit 0 only when every process is healthy.
    if (ctx.flags.json) {
      say(JSON.stringify(s, null, 2));
      return 0;
    }
    say(formatStatusTable(s));
    if (s.endpoints.console) say(`ops console: ${s.endpoints.console}`);
    return s.healthy ? 0 : 1;
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
