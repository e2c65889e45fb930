// `tier drill <scenario>|all`: runs failure drills against the running local region under live traffic,
// prints each report as a table and writes it as JSON to <stateDir>/drills/. No logic here: @conduit/drills does it.
import { readRegion } from '@conduit/local';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatDrReport, runDisasterDrill, writeDrReport, formatDropTableReport, runDropTableDrill, formatScaleOut, fullScaleOutTiming, runScaleOut, shortScaleOutTiming,
  formatRegionLoss, regionLossFullTiming, regionLossShortTiming, runRegionLoss,
  failbackFullTiming, failbackShortTiming, formatFailback, formatSwitchover, runRegionFailback, runRegionSwitchover, switchoverFullTiming, switchoverShortTiming,
  formatReport, fullTiming, regionHandle, runDrill, scenarioNames, scenarioNamed, shortTiming, writeReport, type DrillReport,
} from '@conduit/drills';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The definition of the region the flags name, which must be running (a drill needs live traffic). */
async function runningRegion(ctx: CommandContext) {
  const loaded = await loadDefinition(ctx.flags.config);
  if (!readRegion(loaded.stateDir).supervisor?.running) {
    throw new CliError(`region "${loaded.definition.name}" is not running (state ${loaded.stateDir}): start it with \`npx tier up${ctx.flags.config ? ` --config ${ctx.flags.config}` : ''}\``, 1);
  }
  return loaded;
}

/**
 * `tier drill dr`: the whole region lost under traffic and recovered from its backups (not part of `all`:
 * it destroys the region's state folder, and takes as long as the data is big).
 */
async function disasterDrill(ctx: CommandContext): Promise<number> {
  const { definition, stateDir, file } = await runningRegion(ctx);
  const report = await runDisasterDrill({
    definition, stateDir, configFile: file, log: ctx.flags.json ? () => undefined : say,
    ...(ctx.flags.short ? { warmupMs: 5_000, afterMs: 3_000 } : {}),
  });
  const out = writeDrReport(stateDir, report);
  say(ctx.flags.json ? JSON.stringify(report, null, 2) : `\n${formatDrReport(report)}\n  report: ${out}\n`);
  return report.pass ? 0 : 1;
}

/** `tier drill drop-table`: a table dropped by a statement, its rows back from a restore to T − 1 s into a new instance. */
async function dropTable(ctx: CommandContext): Promise<number> {
  const { definition, stateDir, file } = await runningRegion(ctx);
  const report = await runDropTableDrill({ definition, stateDir, configFile: file, log: ctx.flags.json ? () => undefined : say });
  const dir = join(stateDir, 'drills');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `drop-table-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  say(ctx.flags.json ? JSON.stringify(report, null, 2) : `\n${formatDropTableReport(report)}\n  report: ${out}\n`);
  return report.pass ? 0 : 1;
}

/** `tier drill scale-out`: the autoscaler under a traffic step (not part of `all`: its scale-in waits out the cooldowns). */
async function scaleOut(ctx: CommandContext): Promise<number> {
  const { definition, stateDir } = await runningRegion(ctx);
  const region = regionHandle(definition, stateDir);
  const report = await runScaleOut(region, ctx.flags.short ? shortScaleOutTiming : fullScaleOutTiming(region), ctx.flags.json ? () => undefined : say);
  const dir = join(region.stateDir, 'drills');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `scale-out-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  say(ctx.flags.json ? JSON.stringify(report, null, 2) : `\n${formatScaleOut(report)}\n  report: ${file}\n`);
  return report.pass ? 0 : 1;
}

export const drill = {
  async run(ctx: CommandContext): Promise<number> {
    const [which, ...extra] = ctx.args;
    if (!which || extra.length > 0) {
      throw new CliError(`usage: tier drill <scenario>|all|dr|drop-table|scale-out|region-loss|region-failback|region-switchover [--short] [--json] [--config FILE]; scenarios: ${scenarioNames.join(', ')}; the region drills need two regions and are not part of all (region-loss leaves the primary region lost, region-failback brings it back as the standby, region-switchover swaps the roles)`);
    }
    if (which === 'dr') return disasterDrill(ctx);
    if (which === 'drop-table') return dropTable(ctx);
    if (which === 'scale-out') return scaleOut(ctx);
    if (which === 'region-loss') return regionLoss(ctx);
    if (which === 'region-failback' || which === 'region-switchover') return regionRoles(ctx, which);
    const list = which === 'all' ? scenarioNames : [which];
    for (const n of list) {
      try {
        scenarioNamed(n);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    const { definition, stateDir } = await runningRegion(ctx);
    const region = regionHandle(definition, stateDir);
    const timing = ctx.flags.short ? shortTiming : fullTiming;
    const reports: DrillReport[] = [];
    for (const name of list) {
      const report = await runDrill(region, scenarioNamed(name), { timing, log: ctx.flags.json ? () => undefined : say });
      const file = writeReport(stateDir, report);
      reports.push(report);
      if (!ctx.flags.json) say(`\n${formatReport(report)}\n  report: ${file}\n`);
    }
    if (ctx.flags.json) say(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
    else if (reports.length > 1) {
      say('summary:');
      for (const r of reports) {
        say(`  ${r.pass ? 'PASS' : 'FAIL'}  ${r.scenario.padEnd(20)} ${String(r.load.sent).padStart(5)} req, ${String(r.phases[3]!.failed).padStart(4)} failed, recovery ${r.recovery.serviceMs} ms, lost ${r.writes.lostCount}, unexpected ${r.writes.unexpectedCount}`);
      }
    }
    return reports.every((r) => r.pass) ? 0 : 1;
  },
};

/** `tier drill region-loss`: both regions must run; afterwards the secondary is the writer region. */
async function regionLoss(ctx: CommandContext): Promise<number> {
  const { definition, stateDir } = await runningRegion(ctx);
  let report;
  try {
    report = await runRegionLoss(definition, stateDir, { timing: ctx.flags.short ? regionLossShortTiming : regionLossFullTiming, log: ctx.flags.json ? () => undefined : say });
  } catch (e) {
    throw new CliError(`region-loss: ${(e as Error).message}`, 1);
  }
  const file = writeReport(stateDir, report);
  if (ctx.flags.json) say(JSON.stringify(report, null, 2));
  else say(`\n${formatReport(report)}\n${formatRegionLoss(report.regions).join('\n')}\n  report: ${file}\n`);
  return report.pass ? 0 : 1;
}

/** `tier drill region-failback|region-switchover`: the writer region must run (the returning one may be down). */
async function regionRoles(ctx: CommandContext, which: 'region-failback' | 'region-switchover'): Promise<number> {
  const { definition, stateDir, file } = await loadDefinition(ctx.flags.config);
  const log = ctx.flags.json ? () => undefined : say;
  let report;
  let lines: string[];
  try {
    if (which === 'region-failback') {
      const r = await runRegionFailback(definition, stateDir, { configFile: file, timing: ctx.flags.short ? failbackShortTiming : failbackFullTiming, log });
      report = r;
      lines = formatFailback(r.failback);
    } else {
      const r = await runRegionSwitchover(definition, stateDir, { timing: ctx.flags.short ? switchoverShortTiming : switchoverFullTiming, log });
      report = r;
      lines = formatSwitchover(r.switchover);
    }
  } catch (e) {
    throw new CliError(`${which}: ${(e as Error).message}`, 1);
  }
  const out = writeReport(stateDir, report);
  if (ctx.flags.json) say(JSON.stringify(report, null, 2));
  else say(`\n${formatReport(report)}\n${lines.join('\n')}\n  report: ${out}\n`);
  return report.pass ? 0 : 1;
}
