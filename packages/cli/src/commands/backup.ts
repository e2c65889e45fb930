// `tier backup now|list|verify` and `tier restore --to <ISO time|GTID|latest> [--force]` (@conduit/local).
import { backupList, backupNow, restoreRegion, seedVolume, verifyLatest, RegionError, type BackupOptions } from '@conduit/local';
import { CliError } from '../cli-error.js';
import { loadDefinition } from '../load-definition.js';
import type { CommandContext } from '../command.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

/** A backup that cannot proceed is a one-line error (which object, why), never a stack trace. */
async function oneLine<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RegionError) throw new CliError(e.message, 1);
    if (e instanceof Error) throw new CliError(e.message.split('\n')[0]!, 1);
    throw e;
  }
}

async function options(ctx: CommandContext): Promise<BackupOptions> {
  const { definition, stateDir, file } = await loadDefinition(ctx.flags.config);
  // --json: progress goes to stderr, the result alone to stdout.
  const progress = (line: string) => (ctx.flags.json ? process.stderr : process.stdout).write(`  · ${line}\n`);
  return { definition, stateDir, configFile: file, progress };
}

export const backup = {
  async run(ctx: CommandContext): Promise<number> {
    const sub = ctx.args[0];
    const o = await options(ctx);
    if (sub === 'now') {
      const m = await oneLine(() => backupNow(o));
      if (ctx.flags.json) say(JSON.stringify(m, null, 2));
      else say(`full backup ${m.id}: GTID ${m.gtid}, ${mb(m.streamBytes)} → ${mb(m.object.bytes)} in s3://${o.definition.name}-backups-${m.region}/${m.object.key}`);
      return 0;
    }
    if (sub === 'list') {
      const l = await oneLine(() => backupList(o));
      if (ctx.flags.json) { say(JSON.stringify(l, null, 2)); return 0; }
      say(`bucket ${l.bucket}: ${l.fulls.length} full backup(s)`);
      for (const f of l.fulls) say(`  ${f.id}  GTID ${f.gtid.padEnd(12)} ${mb(f.object.bytes).padStart(9)}  from ${f.source}, release ${f.release ?? '?'}`);
      const a = l.archive;
      say(a.segments === 0 ? 'binlog archive: empty' : `binlog archive: ${a.segments} segment(s), ${a.transactions} transaction(s), GTID ${a.from || '(start)'} → ${a.to}, last commit ${a.lastCommitAt}`);
      if (l.agent?.lastError) say(`backup agent: last error at ${l.agent.lastError.at}: ${l.agent.lastError.message}`);
      if (l.lastVerify) say(`last verify ${l.lastVerify.at}: ${l.lastVerify.ok ? 'OK' : 'FAILED'}: ${l.lastVerify.sentence}`);
      return 0;
    }
    if (sub === 'verify') {
      const r = await oneLine(() => verifyLatest(o));
      if (ctx.flags.json) say(JSON.stringify(r, null, 2));
      else {
        for (const t of r.tables) say(`  ${t.table.padEnd(24)} ${String(t.rows).padStart(9)} rows  checksum ${t.checksum.padEnd(12)} live ${t.live ? `${t.live.rows} rows, ${t.live.checksum}` : 'missing'}`);
        say(`verify ${r.ok ? 'OK' : 'FAILED'} in ${r.seconds.toFixed(1)} s: ${r.sentence}`);
      }
      return r.ok ? 0 : 1;
    }
    throw new CliError(`backup: expected now, list or verify (got ${sub ? `"${sub}"` : 'nothing'}): e.g. \`tier backup now\``);
  },
};

export const restore = {
  async run(ctx: CommandContext): Promise<number> {
    const to = ctx.flags.to;
    if (typeof to !== 'string') throw new CliError('restore: --to is required: --to latest, --to 2026-11-29T18:31:36Z or --to 0-1-120 (a GTID)');
    const o = await options(ctx);
    const r = await oneLine(() => restoreRegion({ ...o, to, force: ctx.flags.force === true }));
    if (ctx.flags.json) { say(JSON.stringify(r, null, 2)); return 0; }
    const t = r.timings;
    say(`\nrestored ${r.summary}`);
    say(`  dataset at GTID ${r.gtid}${r.lastCommitAt ? `, last commit ${r.lastCommitAt}` : ''}: ${r.replayed} transaction(s) replayed, ${r.rows} rows`);
    say(`  ${t.total.toFixed(1)} s: fetch ${t.fetch.toFixed(1)} s, prepare ${t.prepare.toFixed(1)} s, replay ${t.replay.toFixed(1)} s, check ${t.check.toFixed(1)} s, stop ${t.stop.toFixed(1)} s, install ${t.install.toFixed(1)} s, region up ${t.up.toFixed(1)} s (rebuild ${t.rebuild.toFixed(1)} s, app start ${t.appStart.toFixed(1)} s)`);
    return 0;
  },
};

export const seed = {
  async run(ctx: CommandContext): Promise<number> {
    const size = ctx.flags.size;
    if (typeof size !== 'string') throw new CliError('seed: --size is required, e.g. --size 200MB or --size 1GB');
    const o = await options(ctx);
    const r = await oneLine(() => seedVolume({ definition: o.definition, stateDir: o.stateDir, size, progress: o.progress }));
    say(ctx.flags.json ? JSON.stringify(r) : `seeded ${r.articles} articles (with users, tags, comments, favorites, follows): the application database is ${mb(r.bytes)} on disk, in ${r.seconds.toFixed(0)} s`);
    return 0;
  },
};
