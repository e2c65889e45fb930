// Per-process CPU and memory for the charts and alarms, read from /proc: the console is the region's process
// exporter (no extra process beside the region). For every process the supervisor runs, the process and its
// children (nginx's and Varnish's workers) are summed: CPU as % of one core over the last sample interval,
// resident memory in bytes. Replica lag per replica comes from the same status samples (the Debian MariaDB
// exporter scrapes the primary only). Prometheus scrapes GET /metrics (job console, honor_labels).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (utime/stime in /proc/<pid>/stat count these). */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The process and its live descendants, from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch { /* exited meanwhile */ }
      for (const c of children.split(' ')) if (c) walk(Number(c));
    }
  };
  walk(pid);
  return out;
}

/** CPU seconds (user + system) and resident bytes of one process; null once it has gone. */
export function readProcess(pid: number): { cpuSeconds: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / clockTicks;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

export interface WatchedProcess { name: string; tier: string; zone: string | null; pid: number | null }
export interface BackupVerifySample { last: { ok: boolean; backup: string } | null; ageSeconds: number | null }
interface Gauge { labels: Record<string, string>; value: number }

export class ProcessMetrics {
  private last = new Map<string, { pid: number; at: number; cpuSeconds: number }>();
  private cpu: Gauge[] = [];
  private rss: Gauge[] = [];
  private lag: Gauge[] = [];
  private verifyOk: Gauge[] = [];
  private verifyAge: Gauge[] = [];

  /**
   * One sample of every process (and the replicas' lag, in seconds, by node; and the last backup verify:
   * ok 1/0 once one ran, its age, or the age of the oldest full backup before any, for the backup-verify alarm).
   */
  sample(processes: readonly WatchedProcess[], replicaLag: Record<string, number>, now = Date.now(), verify: BackupVerifySample | null = null): void {
    const labels = { backup: verify?.last?.backup || 'none' };
    this.verifyOk = verify?.last ? [{ labels, value: verify.last.ok ? 1 : 0 }] : [];
    this.verifyAge = verify && verify.ageSeconds !== null ? [{ labels, value: verify.ageSeconds }] : [];
    const cpu: Gauge[] = [];
    const rss: Gauge[] = [];
    const seen = new Map<string, { pid: number; at: number; cpuSeconds: number }>();
    for (const p of processes) {
      if (p.pid === null) continue;
      let cpuSeconds = 0;
      let rssBytes = 0;
      for (const pid of processTree(p.pid)) {
        const r = readProcess(pid);
        if (r) {
          cpuSeconds += r.cpuSeconds;
          rssBytes += r.rssBytes;
        }
      }
      const labels = { process: p.name, tier: p.tier, zone: p.zone ?? 'regional' };
      rss.push({ labels, value: rssBytes });
      const prev = this.last.get(p.name);
      // A new pid, or a child that exited (its time leaves the sum): no figure this round rather than a wrong one.
      if (prev && prev.pid === p.pid && now > prev.at && cpuSeconds >= prev.cpuSeconds) {
        cpu.push({ labels, value: (100 * (cpuSeconds - prev.cpuSeconds)) / ((now - prev.at) / 1000) });
      }
      seen.set(p.name, { pid: p.pid, at: now, cpuSeconds });
    }
    this.last = seen;
    this.cpu = cpu;
    this.rss = rss;
    this.lag = Object.entries(replicaLag).map(([node, value]) => ({ labels: { node }, value }));
  }

  /** The Prometheus text exposition. */
  render(): string {
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines = (name: string, help: string, gauges: Gauge[]) => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} gauge`,
      ...gauges.map((g) => `${name}{${Object.entries(g.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}} ${Number(g.value.toFixed(3))}`),
    ];
    return [
      ...lines('conduit_process_cpu_percent', 'CPU of a region process and its children, % of one core over the last sample', this.cpu),
      ...lines('conduit_process_resident_memory_bytes', 'Resident memory of a region process and its children', this.rss),
      ...lines('conduit_db_replica_lag_seconds', 'Replication lag of a database replica (tier status)', this.lag),
      ...lines('conduit_backup_verify_ok', 'The last backup verify: 1 every table equal at the same GTID, 0 failed (tier status)', this.verifyOk),
      ...lines('conduit_backup_verify_age_seconds', 'Seconds since the last backup verify (since the oldest full backup before any)', this.verifyAge),
    ].join('\n') + '\n';
  }
}
