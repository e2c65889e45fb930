// Owns every process of the region: starts specs, records them in processes.json, replaces a
// crashed API/front/LB/edge/monitoring process (what an Auto Scaling group does for an unhealthy
// instance) and logs why, and stops everything per process group: SIGTERM, wait, SIGKILL.
import type { ChildProcess } from 'node:child_process';
import { apiTargets } from '../generators/prometheus.js';
import { stopRank } from '../specs/processes.js';
import { isAlive, isOurProcess, probe, spawnProcess, stopProcessGroup } from '../runner/index.js';
import { writeFileAtomic } from '../state.js';
import type { StatePaths } from '../paths.js';
import type { ProcessRecord, ProcessSpec, ProcessesFile } from '../types.js';

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | null;
  record: ProcessRecord;
  /** Set while we stop it on purpose: its exit is not a crash. */
  stopping: boolean;
  restartTimer: NodeJS.Timeout | null;
  /** Consecutive failed liveness probes (replaceable HTTP processes only). */
  failedProbes: number;
  /** Crashes in a row, each within STABLE_AFTER_MS of its start (restart policy "restart": the backoff). */
  crashStreak: number;
}

/** A stateful node that ran this long before it died is not crash-looping (one that cannot start dies within a second or two): its backoff starts over. */
const STABLE_AFTER_MS = 10_000;
const RESTART_BACKOFF_CAP_MS = 30_000;

/** Delay before restarting a stateful node in place: restartAfterMs, doubled per crash in a row, capped. */
export const restartDelayMs = (firstMs: number, streak: number) => Math.min(firstMs * 2 ** Math.max(streak - 1, 0), RESTART_BACKOFF_CAP_MS);

/**
 * The process group a dead adopted leader may have left (workers still holding its port), to kill: its id
 * is the leader's pid. A pid alive again belongs to someone else now (recycled): nothing to kill then.
 */
const leftGroup = (pid: number | null) => (pid === null || isAlive(pid) ? undefined : pid);

/** How often an adopted process (not our child: no exit event) is checked for life. */
const ADOPTED_POLL_MS = 200;

export type Logger = (line: string) => void;

// Liveness, fixed constants rather than definition fields: they decide when a process that is alive
// but hung is killed and replaced (the ASG's own health check on AWS, which has no counterpart field
// in the definition). Pool membership is the load balancer's job and uses the definition's
// healthCheck (interval, fall, rise). 5 failed probes a second apart (each 1.5 s at most) is slower
// than any pool decision, so an instance is taken out of the pool before it is killed; a new process
// gets 15 s to boot (the API's cold start here is 1-3 s under load) before it is probed at all.
const LIVENESS_EVERY_MS = 1_000;
const LIVENESS_FAILURES = 5;
const LIVENESS_TIMEOUT_MS = 1_500;
const LIVENESS_BOOT_GRACE_MS = 15_000;

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `killed by ${signal}` : `exited with code ${code}`;

export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private shuttingDown = false;
  private readonly startedAt = new Date().toISOString();
  private livenessTimer: NodeJS.Timeout | null = null;
  private adoptedTimer: NodeJS.Timeout | null = null;

  /**
   * @param beforeStart runs before every (re)start of a spec, e.g. to regenerate HAProxy's config from
   *   the current DB topology and running instances before a replacement HAProxy starts.
   * @param beforeRestart runs (and is awaited) before a crashed "restart" process is started again, e.g. to
   *   re-clone a database node whose data dir is gone; its sentence, if any, is logged.
   */
  constructor(
    private readonly paths: StatePaths,
    private readonly log: Logger,
    private readonly beforeStart: (spec: ProcessSpec, restart: boolean) => void = () => undefined,
    private readonly beforeRestart: (spec: ProcessSpec) => Promise<string | null> = async () => null,
  ) {}

  get names(): string[] {
    return [...this.managed.keys()];
  }

  records(): ProcessRecord[] {
    return [...this.managed.values()].map((m) => ({ ...m.record }));
  }

  spec(name: string): ProcessSpec | undefined {
    return this.managed.get(name)?.spec;
  }

  /** Starts (or restarts) a spec; resolves with its pid. */
  start(spec: ProcessSpec): number {
    if (this.shuttingDown) throw new Error(`not starting ${spec.name}: the region is stopping`);
    const existing = this.managed.get(spec.name);
    if (existing && existing.record.pid !== null && existing.record.state !== 'exited' && existing.record.state !== 'stopped') {
      throw new Error(`${spec.name} is already running (pid ${existing.record.pid})`);
    }
    this.beforeStart(spec, existing !== undefined);
    const child = spawnProcess(spec);
    const m: Managed = existing ?? {
      spec,
      child: null,
      stopping: false,
      restartTimer: null,
      failedProbes: 0,
      crashStreak: 0,
      record: {
        name: spec.name, tier: spec.tier, zone: spec.zone, region: spec.region, host: spec.host, pid: null, port: spec.port, logFile: spec.logFile,
        restartPolicy: spec.restartPolicy, probe: spec.probe, state: 'starting', restarts: 0, startedAt: null, lastExit: null,
        command: [spec.command, ...spec.args],
      },
    };
    m.spec = spec;
    m.record.version = spec.version ?? null;
    m.record.command = [spec.command, ...spec.args];
    m.child = child;
    m.stopping = false;
    m.failedProbes = 0;
    m.record.pid = child.pid ?? null;
    m.record.state = 'running';
    m.record.startedAt = new Date().toISOString();
    this.managed.set(spec.name, m);
    child.once('error', (e) => this.log(`${spec.name}: could not start ${spec.command}: ${e.message}`));
    child.once('exit', (code, signal) => {
      if (m.child === child) this.onExit(m, child.pid, describeExit(code, signal)); // else an older incarnation
    });
    this.persist();
    return child.pid ?? -1;
  }

  /**
   * Takes over the processes a previous supervisor started (it died; the watchdog started this one), as
   * processes.json lists them: a live process that is still ours (isOurProcess) is kept as it is, pid,
   * start time and restart count included; it is not our child, so watchAdopted() polls it. A "replace"
   * process that died meanwhile is replaced now; a "never" one is marked exited. Returns what it did.
   */
  adopt(records: ProcessRecord[], specFor: (name: string) => ProcessSpec | undefined): { adopted: string[]; replaced: string[]; down: string[]; unknown: string[] } {
    const out = { adopted: [] as string[], replaced: [] as string[], down: [] as string[], unknown: [] as string[] };
    for (const rec of records) {
      const spec = specFor(rec.name);
      if (!spec) {
        out.unknown.push(rec.name);
        if (rec.pid !== null && isOurProcess(rec)) {
          this.log(`${rec.name} (pid ${rec.pid}) is in processes.json but not in the plan: stopping it`);
          void stopProcessGroup(rec.pid, 10_000);
        }
        continue;
      }
      const m: Managed = { spec, child: null, stopping: false, restartTimer: null, failedProbes: 0, crashStreak: 0, record: { ...rec } };
      this.managed.set(rec.name, m);
      if (rec.pid !== null && isOurProcess(rec)) {
        m.record.state = 'running';
        out.adopted.push(rec.name);
      } else if (rec.state === 'stopped' || rec.state === 'exited') {
        m.record.pid = null;
        out.down.push(rec.name);
      } else {
        // It was running (or being replaced) when the old supervisor died, and is gone now.
        const pid = m.record.pid;
        m.record.pid = null;
        if (spec.restartPolicy !== 'never') out.replaced.push(rec.name);
        else out.down.push(rec.name);
        this.onExit(m, leftGroup(pid), 'gone while no supervisor ran');
      }
    }
    this.persist();
    return out;
  }

  /** Polls adopted processes (not our children: no exit event) and handles a death like a child's exit. */
  watchAdopted(intervalMs = ADOPTED_POLL_MS): void {
    this.adoptedTimer = setInterval(() => {
      for (const m of this.managed.values()) {
        if (m.child !== null || m.record.pid === null || m.stopping) continue;
        if (!isOurProcess(m.record)) this.onExit(m, leftGroup(m.record.pid), 'gone (adopted: exit status unknown)');
      }
    }, intervalMs);
    this.adoptedTimer.unref();
  }

  private onExit(m: Managed, pid: number | undefined, why: string): void {
    // The leader is gone; what is left of its group (e.g. nginx or Varnish workers still holding the
    // port) goes too, as when an Auto Scaling group terminates an instance.
    if (pid !== undefined) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* nothing left */ }
    }
    m.child = null;
    m.record.pid = null;
    m.record.lastExit = why;
    if (m.stopping || this.shuttingDown) {
      m.record.state = 'stopped';
      this.persist();
      return;
    }
    const zone = m.spec.zone ? `, zone ${m.spec.zone}` : '';
    if (m.spec.restartPolicy === 'replace') {
      m.record.state = 'restarting';
      m.record.restarts += 1;
      // Back off when it keeps crashing: 0.2 s, 0.4 s, 0.8 s … capped at 5 s.
      const delay = Math.min(200 * 2 ** Math.min(m.record.restarts - 1, 5), 5_000);
      this.log(`${m.spec.name} (${m.spec.tier}${zone}) ${why}: replacing it in ${delay} ms (replacement #${m.record.restarts}), as an Auto Scaling group replaces an unhealthy instance`);
      this.startLater(m, delay, 'replaced', 'replacement');
    } else if (m.spec.restartPolicy === 'restart') {
      const ranMs = m.record.startedAt ? Date.now() - Date.parse(m.record.startedAt) : 0;
      m.crashStreak = ranMs < STABLE_AFTER_MS ? m.crashStreak + 1 : 1;
      m.record.state = 'restarting';
      m.record.restarts += 1;
      const delay = restartDelayMs(m.spec.restartAfterMs ?? 1_000, m.crashStreak);
      this.log(`${m.spec.name} (${m.spec.tier}${zone}) ${why}: restarting it on its own data in ${delay} ms (crash ${m.crashStreak} in a row); the failover machinery acts first and rejoins it in its role`);
      this.startLater(m, delay, 'restarted', 'restart');
    } else {
      m.record.state = 'exited';
      this.log(`${m.spec.name} (${m.spec.tier}${zone}) ${why}: not restarted (restart policy "never")`);
    }
    this.persist();
  }

  private startLater(m: Managed, delay: number, done: string, what: string): void {
    m.restartTimer = setTimeout(async () => {
      m.restartTimer = null;
      if (this.shuttingDown || m.stopping) return;
      try {
        if (m.spec.restartPolicy === 'restart') {
          const said = await this.beforeRestart(m.spec);
          if (said) this.log(said);
          if (this.shuttingDown || m.stopping) return;
        }
        const pid = this.start(m.spec);
        this.log(`${m.spec.name} ${done}: new pid ${pid}`);
      } catch (e) {
        this.log(`${m.spec.name}: ${what} failed: ${(e as Error).message}`);
      }
    }, delay);
  }

  /** Stops one process on purpose (no replacement). */
  async stop(name: string): Promise<string> {
    const m = this.managed.get(name);
    if (!m) throw new Error(`no process named ${name}`);
    m.stopping = true;
    if (m.restartTimer) clearTimeout(m.restartTimer);
    const pid = m.record.pid;
    if (pid === null) {
      m.record.state = 'stopped';
      this.persist();
      return 'already stopped';
    }
    const how = await stopProcessGroup(pid, m.spec.stopGraceMs);
    m.record.state = 'stopped';
    m.record.pid = null;
    this.persist();
    return how;
  }

  /** Forgets a stopped process (e.g. an instance removed by the autoscaler). */
  forget(name: string): void {
    const m = this.managed.get(name);
    if (m && m.record.pid === null) {
      this.managed.delete(name);
      this.persist();
    }
  }

  /** Stops everything: entry points first, data last; each rank in parallel, SIGTERM then SIGKILL. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.adoptedTimer) clearInterval(this.adoptedTimer);
    const ranks = [...new Set([...this.managed.values()].map((m) => stopRank[m.spec.tier] ?? 9))].sort((a, b) => a - b);
    for (const rank of ranks) {
      const batch = [...this.managed.values()].filter((m) => (stopRank[m.spec.tier] ?? 9) === rank);
      await Promise.all(batch.map(async (m) => {
        const how = await this.stop(m.spec.name);
        this.log(`stopped ${m.spec.name}: ${how}`);
      }));
    }
  }

  /**
   * Liveness: a replaceable HTTP process (API, front, LB, edge) that stops answering for 5 probes in
   * a row while its pid lives is hung: it is killed, and the exit handler replaces it.
   * API instances are probed on /health/live, not /health/ready: a database failover must not
   * make the supervisor kill every instance.
   */
  startLivenessChecks(intervalMs = LIVENESS_EVERY_MS, failures = LIVENESS_FAILURES): void {
    this.livenessTimer = setInterval(() => {
      for (const m of this.managed.values()) {
        if (m.spec.restartPolicy !== 'replace' || m.spec.probe.kind !== 'http' || m.record.state !== 'running' || m.record.pid === null) continue;
        if (Date.now() - Date.parse(m.record.startedAt ?? '') < LIVENESS_BOOT_GRACE_MS) continue; // still booting
        const p = m.spec.tier === 'api' ? { kind: 'http' as const, path: '/health/live' } : m.spec.probe;
        void probe(p, m.spec.port, LIVENESS_TIMEOUT_MS, m.spec.host).then((ok) => {
          m.failedProbes = ok ? 0 : m.failedProbes + 1;
          if (m.failedProbes >= failures && m.record.pid !== null && !m.stopping) {
            this.log(`${m.spec.name} failed ${failures} liveness probes in a row: killing it to replace it`);
            m.failedProbes = 0;
            try { process.kill(-m.record.pid, 'SIGKILL'); } catch { /* gone */ }
          }
        });
      }
    }, intervalMs);
    this.livenessTimer.unref();
  }

  /** processes.json (drills read it) and Prometheus' API target file. */
  private persist(): void {
    const file: ProcessesFile = {
      supervisor: { pid: process.pid, startedAt: this.startedAt },
      updatedAt: new Date().toISOString(),
      processes: this.records(),
    };
    writeFileAtomic(this.paths.processes, JSON.stringify(file, null, 2) + '\n');
    const apis = this.records().filter((r) => r.tier === 'api' && r.pid !== null);
    writeFileAtomic(this.paths.prometheusApiTargets, apiTargets(apis));
  }
}
