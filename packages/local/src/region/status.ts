// `tier status`: every process with tier, zone, pid, port and health, plus the endpoints.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backupVerifyMaxAgeSeconds, type ResolvedDefinition } from '@conduit/definition';
import { endpoints } from '../specs/processes.js';
import { probe } from '../runner/probe.js';
import { isOurProcess, queryNode, redisRole } from '../runner/index.js';
import { dbSocket, statePaths } from '../paths.js';
import { readJson, readRedundancy, readRegion, readRegionRole, type RedundancyState, type WatchdogState } from '../state.js';
import type { AgentStatus } from '../backup/agent.js';
import type { RegionSecrets } from '../types.js';
// The light module: the console samples the status every 2 s and must not load the S3 client for it.
import { readVerify, verifyReference, type VerifyResult } from '../backup/verify-state.js';
import { openEntries, type JournalEntry } from '../journal.js';
import { currentVersion } from '../releases.js';
import type { DbTopology, ProcessRecord } from '../types.js';

const tierOrder = ['dns', 'edge', 'front', 'api', 'lb', 'db', 'cache', 'sentinel', 'monitoring', 'backup'];

export type Health = 'healthy' | 'unhealthy' | 'down';

export interface ProcessStatus {
  name: string;
  tier: string;
  zone: string | null;
  /** The region it belongs to (an AWS region name); always set by regionStatus(). */
  region?: string;
  pid: number | null;
  port: number;
  health: Health;
  state: ProcessRecord['state'];
  restarts: number;
  /** db: primary/replica (from db-topology.json); cache: primary/replica (asked with ROLE); others null. */
  role: string | null;
  /** db: semi-sync state of the primary, replication state and lag of a replica. */
  detail: string | null;
  /** API and front instances: the release version it runs (null for other processes). */
  version: string | null;
  logFile: string;
}

export interface RegionStatus {
  name: string;
  stateDir: string;
  running: boolean;
  supervisor: { pid: number; running: boolean } | null;
  /** The watchdog that restarts a dead supervisor (its pid, the supervisor's restarts and last exit). */
  watchdog: WatchdogState | null;
  /** Controller actions with an open journal entry: `interrupted` when the supervisor that opened it is gone. */
  openActions: Array<JournalEntry & { interrupted: boolean }>;
  healthy: boolean;
  endpoints: ReturnType<typeof endpoints>;
  topology: DbTopology | null;
  /** The DB tier's redundancy against the definition and since when (the failover controller's view); null before its first look. */
  redundancy: RedundancyState | null;
  /** Files of transactions a rewind undid (kept for an operator to review or replay), oldest first. */
  errantFiles: string[];
  processes: ProcessStatus[];
  tiers: Record<string, { total: number; healthy: number; zones: string[] }>;
  /** The release new instances run (current.json), null before the first `tier up`. */
  release: string | null;
  /** The last backup verify and the schedule (backup.verifyEveryHours); null without a backup agent, and in a standby region. */
  backupVerify: BackupVerifyStatus | null;
}

export interface BackupVerifyStatus {
  /** The last verify (null: none yet). */
  last: Pick<VerifyResult, 'at' | 'ok' | 'backup' | 'gtid' | 'source' | 'trigger' | 'sentence'> | null;
  /** Seconds since the last verify, or since the oldest full backup before any (null: no full backup yet). */
  ageSeconds: number | null;
  /** backup.verifyEveryHours, and the age past which the backup-verify alarm fires (backupVerifyMaxAgeSeconds). */
  everyHours: number;
  maxAgeSeconds: number;
  overdue: boolean;
}

/** The last verify against the schedule: what `tier status` prints and the console exports for the alarm. */
export function backupVerifyStatus(d: ResolvedDefinition, paths: ReturnType<typeof statePaths>, now = Date.now()): BackupVerifyStatus {
  const last = readVerify({ paths });
  const agent = readJson<AgentStatus>(join(paths.run, 'backup-agent.json'));
  const ref = verifyReference(last, agent?.oldestFullAt ?? null);
  const ageSeconds = ref === null ? null : Math.max(0, (now - Date.parse(ref)) / 1000);
  const maxAgeSeconds = backupVerifyMaxAgeSeconds(d);
  return {
    last: last ? { at: last.at, ok: last.ok, backup: last.backup, gtid: last.gtid, source: last.source, trigger: last.trigger, sentence: last.sentence } : null,
    ageSeconds, everyHours: d.backup.verifyEveryHours, maxAgeSeconds, overdue: ageSeconds !== null && ageSeconds > maxAgeSeconds,
  };
}

/** "backup verify: OK 2026-… (schedule), backup …: <sentence>; next due in 23.9 h" or "FAILED …" or "OVERDUE …". */
export function backupVerifyLine(v: BackupVerifyStatus): string {
  const everyHours = v.everyHours;
  const due = v.ageSeconds === null ? 'the first one runs one period after the first full backup' : `next due in ${fmtSeconds(everyHours * 3600 - v.ageSeconds)}`;
  const late = v.overdue ? `OVERDUE: none for ${fmtSeconds(v.ageSeconds!)} (the alarm's limit is ${fmtSeconds(v.maxAgeSeconds)}); ` : '';
  if (!v.last) return `backup verify: ${late}never ran (every ${everyHours} h, backup.verifyEveryHours; ${due})`;
  return `backup verify: ${late}${v.last.ok ? 'OK' : 'FAILED'} at ${v.last.at} (${v.last.trigger}), backup ${v.last.backup || '-'}: ${v.last.sentence}${v.overdue ? '' : `; ${due}`}`;
}

const fmtSeconds = (s: number) => (Math.abs(s) >= 3600 ? `${(s / 3600).toFixed(1)} h` : Math.abs(s) >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

export async function regionStatus(d: ResolvedDefinition, stateDir: string): Promise<RegionStatus> {
  const snap = readRegion(stateDir);
  const paths = statePaths(stateDir);
  // A standby region's primary is read-only and replicates from the other region's writer.
  const standby = readRegionRole(paths)?.role === 'standby';
  // ROLE needs the control plane's Redis password (the nodes have no open `default` user).
  const redisPassword = readJson<Partial<RegionSecrets>>(paths.secrets)?.redisAdminPassword;
  const processes = await Promise.all(snap.processes.map(async (p): Promise<ProcessStatus> => {
    const alive = isOurProcess(p);
    let health: Health = !alive ? 'down' : (await probe(p.probe, p.port, 1_000, p.host ?? d.address)) ? 'healthy' : 'unhealthy';
    let role: string | null = null;
    let detail: string | null = null;
    if (p.tier === 'db' && snap.topology) {
      role = snap.topology.primary === p.name ? (standby ? 'standby primary' : 'primary') : 'replica';
      if (health === 'healthy') {
        const d = await dbDetail(dbSocket(paths, { name: p.name }), role).catch((e: Error) => ({ ok: false, text: e.message.split('\n')[0]! }));
        detail = d.text;
        if (!d.ok) health = 'unhealthy';
      }
    }
    if (p.tier === 'cache' && health === 'healthy') role = (await redisRole(p.port, 1_000, p.host ?? d.address, redisPassword)) === 'master' ? 'primary' : 'replica';
    if (p.name === 'backup-agent') detail = backupDetail(paths);
    return { name: p.name, tier: p.tier, zone: p.zone, region: p.region ?? d.regionName, pid: alive ? p.pid : null, port: p.port, health, state: p.state, restarts: p.restarts, role, detail, version: p.version ?? null, logFile: p.logFile };
  }));
  processes.sort((a, b) => tierOrder.indexOf(a.tier) - tierOrder.indexOf(b.tier) || a.name.localeCompare(b.name, 'en', { numeric: true }));
  const tiers: RegionStatus['tiers'] = {};
  for (const p of processes) {
    const t = (tiers[p.tier] ??= { total: 0, healthy: 0, zones: [] });
    t.total += 1;
    if (p.health === 'healthy') t.healthy += 1;
    if (p.zone && !t.zones.includes(p.zone)) t.zones.push(p.zone);
  }
  const running = snap.supervisor?.running ?? false;
  return {
    name: d.name,
    stateDir: snap.stateDir,
    running,
    supervisor: snap.supervisor,
    watchdog: snap.watchdog,
    openActions: openEntries(paths.actionJournal).map((e) => ({ ...e, interrupted: !(snap.supervisor?.running && snap.supervisor.pid === e.pid) })),
    healthy: running && processes.length > 0 && processes.every((p) => p.health === 'healthy'),
    endpoints: endpoints(d),
    topology: snap.topology,
    redundancy: running ? readRedundancy(paths) : null,
    errantFiles: existsSync(paths.errant) ? readdirSync(paths.errant).sort().map((f) => join(paths.errant, f)) : [],
    processes,
    tiers,
    release: currentVersion(paths),
    // A standby region archives nothing (its primary is read-only): its backups are verified where they are written.
    backupVerify: !standby && snap.processes.some((p) => p.name === 'backup-agent') ? backupVerifyStatus(d, paths) : null,
  };
}

export function formatStatusTable(s: RegionStatus): string {
  if (!s.running && s.processes.every((p) => p.pid === null)) {
    return `region "${s.name}" is not running (state: ${s.stateDir}); start it with \`tier up\``;
  }
  const head = ['NAME', 'REGION', 'TIER', 'ZONE', 'PID', 'PORT', 'HEALTH', 'RESTARTS', 'VERSION', 'ROLE', 'DETAIL'];
  const rows = s.processes.map((p) => [p.name, p.region ?? '-', p.tier, p.zone ?? '-', p.pid === null ? '-' : String(p.pid), p.port === 0 ? '-' : String(p.port), p.health, String(p.restarts), shortVersion(p.version), p.role ?? '', p.detail ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const w = s.watchdog;
  const watchdog = !w ? 'no watchdog' : `watchdog pid ${w.pid}${w.running ? '' : ' NOT running'}, supervisor restarts ${w.restarts}${w.lastRestartAt ? ` (last ${w.lastRestartAt}: ${w.lastExit ?? '?'})` : ''}`;
  return [
    `region "${s.name}": ${s.healthy ? 'healthy' : 'NOT healthy'} (supervisor pid ${s.supervisor?.pid ?? '-'}${s.running ? '' : ', not running'}; ${watchdog}), release ${s.release ?? 'none'}`,
    ...(s.redundancy ? [redundancyLine(s.redundancy)] : []),
    ...(s.backupVerify ? [backupVerifyLine(s.backupVerify)] : []),
    ...(s.errantFiles.length ? [`undone transactions kept for review: ${s.errantFiles.length} file(s), latest ${s.errantFiles.at(-1)}`] : []),
    ...s.openActions.map((e) => `${e.interrupted ? 'INTERRUPTED' : 'in progress'}: ${e.controller} ${e.action} ${JSON.stringify(e.detail)} (opened ${e.openedAt} by supervisor ${e.pid})`),
    line(head),
    ...rows.map(line),
  ].join('\n');
}

/** "database redundancy: BELOW the definition for 12.3 s (since …): 1 of 2 replicas …" or "full since …". */
export function redundancyLine(r: RedundancyState, now = Date.now()): string {
  const forHow = `${((now - Date.parse(r.since)) / 1000).toFixed(1)} s`;
  return r.full
    ? `database redundancy: as defined (since ${r.since})`
    : `database redundancy: BELOW the definition for ${forHow} (since ${r.since}): ${r.shortfall}`;
}

/** The backup agent's last archive pass, full backup and error, and the last `tier backup verify`. */
function backupDetail(paths: ReturnType<typeof statePaths>): string {
  const agent = readJson<AgentStatus>(join(paths.run, 'backup-agent.json'));
  const verify = readJson<{ at: string; ok: boolean }>(join(paths.run, 'backup-verify.json'));
  return [
    agent?.lastArchive ? `archived to ${agent.lastArchive.to} (last commit ${agent.lastArchive.lastCommitAt})` : 'nothing archived yet',
    agent?.lastFull ? `full ${agent.lastFull.id}` : null,
    verify ? `verify ${verify.ok ? 'OK' : 'FAILED'} ${verify.at}` : 'never verified',
    agent?.lastError ? `last error ${agent.lastError.at}: ${agent.lastError.message}` : null,
  ].filter(Boolean).join('; ');
}

/** A commit is 40 hex digits: the table shows 12, plus any suffix (-dirty-…, -fault-…). */
const shortVersion = (v: string | null) => (v ? v.replace(/^([0-9a-f]{12})[0-9a-f]{28}/, '$1') : '-');

/** One line per tier, e.g. "api         3/3 healthy  zones a, b, c". */
export function formatTierLines(s: RegionStatus): string[] {
  return Object.entries(s.tiers)
    .sort(([a], [b]) => tierOrder.indexOf(a) - tierOrder.indexOf(b))
    .map(([tier, t]) => {
      const extra = tier === 'db' && s.topology ? `  primary ${s.topology.primary}, replicas ${s.topology.replicas.join(', ') || 'none'}` : '';
      return `${tier.padEnd(10)} ${t.healthy}/${t.total} healthy${t.zones.length ? `  zones ${t.zones.join(', ')}` : ''}${extra}`;
    });
}

/** A primary must be writable; a replica read-only with both replication threads running. */
async function dbDetail(socket: string, role: string): Promise<{ ok: boolean; text: string }> {
  const [v] = await queryNode<Record<string, string | number>>(socket,
    "SELECT @@read_only AS ro, @@rpl_semi_sync_master_enabled AS semi, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='RPL_SEMI_SYNC_MASTER_CLIENTS') AS clients");
  if (role === 'primary') {
    const ok = Number(v?.ro) === 0;
    return { ok, text: `${ok ? 'writable' : 'READ-ONLY'}, semi-sync ${Number(v?.semi) ? `on (${v?.clients ?? 0} semi-sync replicas)` : 'off'}` };
  }
  const [st] = await queryNode<Record<string, string | number | null>>(socket, 'SHOW SLAVE STATUS');
  if (!st) return { ok: false, text: 'not replicating' };
  const running = st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
  const lag = st.Seconds_Behind_Master;
  return {
    ok: running && Number(v?.ro) === 1,
    text: running ? `replicating from ${role === 'standby primary' ? `${st.Master_Host} (the other region) ` : ''}:${st.Master_Port}, lag ${lag ?? '?'} s${Number(v?.ro) === 1 ? '' : ', WRITABLE'}` : `replication stopped: ${st.Last_IO_Error || st.Last_SQL_Error || `io ${st.Slave_IO_Running}, sql ${st.Slave_SQL_Running}`}`,
  };
}
