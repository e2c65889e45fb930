// The scenarios, each read as given/when/then, with its pass criteria and the AWS Fault Injection
// Service action it stands for on AWS (see README.md).
import { criterion, type DrillContext, type DrillFigures, type Scenario } from './drill.js';
import { deployScenarios } from './deploy-scenarios.js';
import { readRedundancy, statePaths, waitUntil } from '@conduit/local';
import {
  cachePrimary, killSupervisor, pidsOf, processes, replacedSince, supervisorBack, replicaStatus, signalProcess, startProcess, stopProcessGracefully, topology,
} from './region.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const failedOf = (f: DrillFigures, kind: 'read' | 'write' | 'page') => f.samples.filter((s) => s.kind === kind && s.outcome !== 'ok').length;
const failedAll = (f: DrillFigures) => f.samples.filter((s) => s.outcome !== 'ok').length;

/**
 * How long after a blow a request sent by the client can still reach what it killed: a database primary
 * through a pooled connection that has not yet seen the close (the request crosses the edge, the load
 * balancer and the API first: a few ms, 100 ms allowed); an API instance until the load balancer's health
 * check takes it out (api.healthCheck.intervalMs), as a POST on a reused connection is not retried.
 */
const DB_IN_FLIGHT_MS = 100;

/**
 * Writes in flight when the fault struck (sent before its last blow + the slack above, answered after its
 * first) that failed: a write whose COMMIT went unanswered is settled by the API (answered 201 after it, it is
 * an acknowledged write like any other), so what is left here is a write on a killed process (the load
 * balancer never replays a POST) or one no writer answered within the API's retry budget (503).
 * Everything else must succeed: the API retries what surely did not run and reads elsewhere meanwhile.
 */
function failedRequestsCriterion(ctx: DrillContext, f: DrillFigures, slackMs = DB_IN_FLIGHT_MS) {
  const strikes = ctx.state.strikes ?? [{ from: f.faultAt, to: f.faultAt }];
  const failed = f.samples.filter((s) => s.outcome !== 'ok');
  const inFlight = failed.filter((s) => s.kind === 'write' && strikes.some((k) => s.sentAt <= k.to + slackMs && s.endedAt >= k.from)).length;
  const other = failed.length - inFlight;
  return criterion('failed requests', '0 (except writes in flight when it struck: indeterminate)', `${other}${inFlight ? ` (+${inFlight} write(s) in flight)` : ''}`, other === 0);
}

function currentPrimary(ctx: DrillContext): string {
  const t = topology(ctx.region);
  if (!t) throw new Error('no db-topology.json: is the region up?');
  return t.primary;
}

/** SIGKILL an instance of a tier; the supervisor must replace it. */
function instanceKill(tier: 'api' | 'front', name: string, fis: string, pageOnly: boolean): Scenario {
  return {
    name,
    story: `Given ${tier} instances behind the load balancer and traffic, when one ${tier} instance is SIGKILLed, then ${pageOnly ? 'no page load fails' : 'no idempotent request fails'} and the instance is replaced.`,
    fisAction: fis,
    async fault(ctx) {
      const victim = processes(ctx.region).find((p) => p.tier === tier && p.pid !== null && p.state === 'running');
      if (!victim) throw new Error(`no running ${tier} instance to kill`);
      const pid = signalProcess(ctx.region, victim.name, 'SIGKILL');
      ctx.state.victim = victim.name;
      ctx.state.pid = pid;
      ctx.event(`SIGKILL ${victim.name} (pid ${pid}, zone ${victim.zone})`);
    },
    async heal() {
      /* the supervisor replaces it on its own */
    },
    async settle(ctx) {
      const name = ctx.state.victim!;
      const p = await waitUntil(`${name} replaced`, () => replacedSince(ctx.region, name, ctx.state.pid!), 30_000, 200);
      const at = p.startedAt ? Date.parse(p.startedAt) : Date.now();
      ctx.state.replacedAt = at;
      ctx.event(`${name} replaced by the supervisor: new pid ${p.pid}`, 'drill', at);
    },
    criteria(ctx, f) {
      const replacedAt = ctx.state.replacedAt;
      return [
        pageOnly
          ? criterion('failed page loads', '0', failedOf(f, 'page'), failedOf(f, 'page') === 0)
          : criterion('failed idempotent requests', '0', f.failedIdempotent, f.failedIdempotent === 0),
        criterion('instance replaced', 'a new process in the slot', replacedAt ? `after ${secs(replacedAt - f.faultAt)}` : 'not replaced', replacedAt !== undefined),
      ];
    },
  };
}

/** Waits for the supervisor to restart, in place, the db/cache/sentinel processes a fault killed. */
async function restartKilled(ctx: DrillContext): Promise<void> {
  for (const [name, pid] of Object.entries(ctx.state.killed ?? {})) {
    const p = await waitUntil(`${name} restarted by the supervisor`, () => replacedSince(ctx.region, name, pid), 60_000, 100);
    const at = p.startedAt ? Date.parse(p.startedAt) : Date.now();
    ctx.event(`${name} restarted by the supervisor (new pid ${p.pid})`, 'drill', at);
  }
}

async function waitRejoined(ctx: DrillContext, oldPrimary: string): Promise<void> {
  const s = await waitUntil(`${oldPrimary} replicating again`, async () => {
    const t = topology(ctx.region);
    if (!t || t.primary === oldPrimary) return t?.primary === oldPrimary ? { primary: oldPrimary, same: true } : null;
    const st = await replicaStatus(ctx.region, oldPrimary);
    const primaryPort = ctx.region.definition.dbNodes.find((n) => n.name === t.primary)!.port;
    return st && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes' && Number(st.Master_Port) === primaryPort ? { primary: t.primary, same: false } : null;
  }, 30_000, 250);
  ctx.state.rejoined = s.same ? `${oldPrimary} is the primary again (reopened after its restart)` : `${oldPrimary} replicates from ${s.primary}`;
  ctx.event(`${ctx.state.rejoined}`);
}

/** SIGKILLs the supervisor (and `alsoKill`, at the same moment), then waits for the watchdog's new one to answer. */
async function killSupervisorWith(ctx: DrillContext, alsoKill: string[]): Promise<void> {
  ctx.state.pidsBefore = pidsOf(ctx.region);
  const killed = alsoKill.map((n) => `${n} (pid ${signalProcess(ctx.region, n, 'SIGKILL')})`);
  const pid = killSupervisor(ctx.region);
  ctx.event(`SIGKILL supervisor (pid ${pid})${killed.length ? ` and ${killed.join(', ')}` : ''}`);
  const next = await supervisorBack(ctx.region, pid);
  ctx.state.supervisorBackAt = Date.now();
  ctx.event(`new supervisor pid ${next} answers on its control socket`);
}

/** Processes running at the fault (except those it killed) whose pid changed: restarted, which adoption must avoid. */
function restartedSince(ctx: DrillContext, except: string[]): string[] {
  const now = pidsOf(ctx.region);
  return Object.entries(ctx.state.pidsBefore ?? {}).filter(([n, pid]) => !except.includes(n) && now[n] !== pid).map(([n]) => n);
}

const supervisorBackCriterion = (ctx: DrillContext, f: DrillFigures) => {
  const ms = ctx.state.supervisorBackAt ? ctx.state.supervisorBackAt - f.faultAt : null;
  return criterion('supervisor back (answering)', '<= 3 s', ms === null ? 'never' : secs(ms), ms !== null && ms <= 3000);
};

const rejoinedCriterion = (ctx: DrillContext) =>
  criterion('old primary rejoined as a replica', 'replicating from the new primary', ctx.state.rejoined ?? 'no', ctx.state.rejoined?.includes('replicates from') === true);

export const scenarios: Scenario[] = [
  instanceKill('api', 'api-instance-kill', 'aws:ec2:terminate-instances (one instance of the API Auto Scaling group)', false),
  instanceKill('front', 'front-instance-kill', 'aws:ec2:terminate-instances (one instance of the front Auto Scaling group)', true),
  {
    name: 'zone-loss',
    story: 'Given the region spread over zones and traffic, when every process of the DB primary\'s zone dies (DB primary, a Redis node, a Sentinel, API and front instances), then service recovers within 3 s and no acknowledged write is lost.',
    fisAction: 'aws:network:disrupt-connectivity (scope: availability-zone, on the subnets of one AZ) + aws:rds:failover-db-cluster + aws:elasticache:replicationgroup-interrupt-az-power',
    async fault(ctx) {
      const primary = currentPrimary(ctx);
      const zone = ctx.region.definition.dbNodes.find((n) => n.name === primary)!.zone;
      const victims = processes(ctx.region).filter((p) => p.zone === zone && p.pid !== null && p.state === 'running');
      ctx.state.killed = Object.fromEntries(victims.filter((p) => p.restartPolicy === 'restart').map((p) => [p.name, p.pid!]));
      for (const v of victims) {
        try {
          signalProcess(ctx.region, v.name, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      ctx.state.strikes = [{ from: ctx.faultAt, to: Date.now() }];
      ctx.event(`zone ${zone} lost: SIGKILL ${victims.map((v) => v.name).join(', ')}`);
    },
    heal: restartKilled,
    async settle(ctx) {
      const dbKilled = Object.keys(ctx.state.killed ?? {}).filter((n) => n.startsWith('db-'));
      for (const n of dbKilled) await waitRejoined(ctx, n);
    },
    criteria: (ctx, f) => [
      criterion('service recovered', '<= 3 s', secs(f.serviceRecoveryMs), f.serviceRecoveryMs <= 3000),
      // An API instance dies too: until the load balancer's check takes it out, a POST may still reach it.
      failedRequestsCriterion(ctx, f, ctx.region.definition.api.healthCheck.intervalMs),
    ],
  },
  {
    name: 'db-primary-kill',
    story: 'Given a MariaDB primary with two semi-sync replicas and traffic, when the primary is SIGKILLed, then writes resume within 3 s, no request fails but the writes in flight at the kill, no acknowledged write is lost, and the old primary, restarted by the supervisor, rejoins as a replica.',
    fisAction: 'aws:rds:failover-db-cluster (Aurora promotes a reader; typically <= 30 s)',
    async fault(ctx) {
      const primary = currentPrimary(ctx);
      const pid = signalProcess(ctx.region, primary, 'SIGKILL');
      ctx.state.primary = primary;
      ctx.state.killed = { [primary]: pid };
      ctx.state.strikes = [{ from: ctx.faultAt, to: Date.now() }];
      ctx.event(`SIGKILL primary ${primary} (pid ${pid})`);
    },
    heal: restartKilled,
    async settle(ctx) {
      await waitRejoined(ctx, ctx.state.primary!);
    },
    criteria: (ctx, f) => [
      failedRequestsCriterion(ctx, f),
      criterion('writes resumed', '<= 3 s', secs(f.writeRecoveryMs), f.writeRecoveryMs <= 3000),
      criterion('a replica was promoted', 'a "promoted" decision', f.events.find((e) => e.source === 'db-failover' && e.sentence.startsWith('promoted'))?.sentence.split(':')[0] ?? 'none', f.events.some((e) => e.source === 'db-failover' && e.sentence.startsWith('promoted'))),
      rejoinedCriterion(ctx),
    ],
  },
  {
    name: 'db-maintenance',
    story: 'Given a MariaDB primary and traffic, when the primary is restarted gracefully (as AWS maintenance does), then writes pause at most a few seconds with clear 503s, never 500s, and nothing acknowledged is lost.',
    fisAction: 'aws:rds:reboot-db-instances (the writer instance)',
    async fault(ctx) {
      const primary = currentPrimary(ctx);
      ctx.state.primary = primary;
      ctx.event(`graceful restart of primary ${primary}: stopping (SIGTERM)`);
      await stopProcessGracefully(ctx.region, primary);
      ctx.state.strikes = [{ from: ctx.faultAt, to: Date.now() }];
      ctx.event(`${primary} stopped; starting it again`);
      await startProcess(ctx.region, primary);
      ctx.event(`${primary} started`);
    },
    async heal() {
      /* restarted within the fault */
    },
    async settle(ctx) {
      await waitRejoined(ctx, ctx.state.primary!);
    },
    criteria: (ctx, f) => {
      const fiveHundreds = f.samples.filter((s) => s.status === 500).length;
      const otherWriteErrors = f.samples.filter((s) => s.kind === 'write' && s.outcome !== 'ok' && s.status !== 503).length;
      return [
        failedRequestsCriterion(ctx, f),
        criterion('writes paused', '<= 5 s', secs(f.writeRecoveryMs), f.writeRecoveryMs <= 5000),
        criterion('HTTP 500 answers', '0 (503 only)', fiveHundreds, fiveHundreds === 0),
        criterion('write failures other than 503', '0', otherWriteErrors, otherWriteErrors === 0),
      ];
    },
  },
  {
    name: 'cache-primary-kill',
    story: 'Given a Redis primary, a replica and 3 Sentinels and traffic, when the Redis primary is SIGKILLed, then Sentinel promotes the replica within 3 s and the API keeps serving with 0 errors, following the new primary without a restart.',
    fisAction: 'aws:elasticache:replicationgroup-interrupt-az-power (the primary node\'s AZ)',
    async fault(ctx) {
      const primary = await cachePrimary(ctx.region);
      if (!primary) throw new Error('Sentinel names no cache primary');
      const pid = signalProcess(ctx.region, primary, 'SIGKILL');
      ctx.state.primary = primary;
      ctx.state.killed = { [primary]: pid };
      ctx.event(`SIGKILL cache primary ${primary} (pid ${pid})`);
    },
    heal: restartKilled,
    criteria: (ctx, f) => {
      const promoted = f.cachePrimaryChanges.find((c) => c.at >= f.faultAt && c.primary !== null && c.primary !== ctx.state.primary);
      const backMs = promoted ? promoted.at - f.faultAt : null;
      return [
        criterion('failed requests', '0', failedAll(f), failedAll(f) === 0),
        criterion('cache primary back', '<= 3 s', backMs === null ? 'never' : secs(backMs), backMs !== null && backMs <= 3000),
      ];
    },
  },
  {
    name: 'cache-total-loss',
    story: 'Given traffic, when every Redis node dies, then the API serves everything from MariaDB with 0 errors (slower), and the cache comes back when Redis is restarted.',
    fisAction: 'aws:elasticache:replicationgroup-interrupt-az-power (every AZ of the replication group)',
    async fault(ctx) {
      const victims = processes(ctx.region).filter((p) => p.tier === 'cache' && p.pid !== null && p.state === 'running');
      ctx.state.killed = Object.fromEntries(victims.map((v) => [v.name, signalProcess(ctx.region, v.name, 'SIGKILL')]));
      ctx.event(`SIGKILL every Redis node: ${victims.map((v) => v.name).join(', ')}`);
    },
    heal: restartKilled,
    criteria: (_ctx, f) => [criterion('failed requests', '0', failedAll(f), failedAll(f) === 0)],
  },
  {
    name: 'replica-lag',
    story: 'Given reads spread over the replicas, when one replica is paused (SIGSTOP), then reads keep succeeding: the lagging replica leaves the reader endpoint and comes back after it resumes.',
    fisAction: 'aws:ssm:send-command (pause the reader\'s process; RDS has no lag action) — Aurora drops a lagging reader from the reader endpoint',
    async fault(ctx) {
      const t = topology(ctx.region);
      const replica = t?.replicas[0];
      if (!replica) throw new Error('no replica to pause');
      const pid = signalProcess(ctx.region, replica, 'SIGSTOP');
      ctx.state.replica = replica;
      ctx.event(`SIGSTOP replica ${replica} (pid ${pid})`);
    },
    async heal(ctx) {
      const replica = ctx.state.replica;
      if (!replica) return;
      signalProcess(ctx.region, replica, 'SIGCONT');
      ctx.event(`SIGCONT replica ${replica}`);
    },
    criteria: (ctx, f) => {
      const replica = ctx.state.replica!;
      const left = f.events.find((e) => e.source === 'db-failover' && e.at >= f.faultAt && e.sentence.startsWith('reader endpoint:') && (e.sentence.includes(`${replica} unreachable`) || e.sentence.includes(`${replica} lagging`)));
      const back = f.events.find((e) => e.source === 'db-failover' && e.at >= f.healedAt && e.sentence.includes(`${replica} back`));
      const failedReads = failedOf(f, 'read') + failedOf(f, 'page');
      return [
        criterion('failed reads', '0', failedReads, failedReads === 0),
        criterion('lagging replica left the reader endpoint', '<= 3 s', left ? secs(left.at - f.faultAt) : 'never', !!left && left.at - f.faultAt <= 3000),
        criterion('replica back in the reader endpoint after it resumed', 'yes', back ? `after ${secs(back.at - f.healedAt)}` : 'no', !!back),
      ];
    },
  },
  {
    name: 'supervisor-kill',
    story: 'Given the region under traffic, when the supervisor is SIGKILLed, then no request fails, the watchdog starts a new supervisor within 3 s, and it adopts every process as it runs (no pid changes).',
    fisAction: 'none: on AWS the control plane is managed and redundant (Auto Scaling, RDS); this is the local control plane surviving its own crash',
    fault: (ctx) => killSupervisorWith(ctx, []),
    async heal() {
      /* the watchdog restarts it on its own */
    },
    criteria: (ctx, f) => {
      const restarted = restartedSince(ctx, []);
      return [
        criterion('failed requests', '0', failedAll(f), failedAll(f) === 0),
        supervisorBackCriterion(ctx, f),
        criterion('components restarted', 'none (same pids)', restarted.join(', ') || 'none', restarted.length === 0),
      ];
    },
  },
  {
    name: 'supervisor-kill-during-failover',
    story: 'Given a MariaDB primary with semi-sync replicas and traffic, when the primary and the supervisor are SIGKILLed together, then the new supervisor fails the database over: writes resume within 5 s, no acknowledged write is lost, nothing else is restarted.',
    fisAction: 'aws:rds:failover-db-cluster while the control plane restarts',
    async fault(ctx) {
      const primary = currentPrimary(ctx);
      ctx.state.primary = primary;
      await killSupervisorWith(ctx, [primary]);
      ctx.state.killed = { [primary]: ctx.state.pidsBefore![primary]! };
    },
    heal: restartKilled,
    async settle(ctx) {
      await waitRejoined(ctx, ctx.state.primary!);
    },
    criteria: (ctx, f) => {
      const restarted = restartedSince(ctx, [ctx.state.primary!]);
      const promoted = f.events.find((e) => e.source === 'db-failover' && e.at >= f.faultAt && e.sentence.startsWith('promoted'));
      return [
        criterion('writes resumed', '<= 5 s', secs(f.writeRecoveryMs), f.writeRecoveryMs <= 5000),
        supervisorBackCriterion(ctx, f),
        criterion('a replica was promoted by the new supervisor', 'a "promoted" decision', promoted?.sentence.split(':')[0] ?? 'none', !!promoted),
        criterion('other components restarted', 'none (same pids)', restarted.join(', ') || 'none', restarted.length === 0),
        rejoinedCriterion(ctx),
      ];
    },
  },
  {
    name: 'repeated-primary-kill',
    story: 'Given a MariaDB primary with two semi-sync replicas and traffic, when the primary is SIGKILLed three times, one kill every 20 s (10 s in the short version), then every failover works, no acknowledged write is lost, and the region comes back to full redundancy by itself after each kill (the supervisor restarts the dead node, the controller rejoins it as a replica).',
    fisAction: 'aws:rds:failover-db-cluster, three times (Aurora replaces a failed instance by itself)',
    minFaultWindowMs: (t) => 2 * t.repeatEveryMs + 12_000,
    async fault(ctx) {
      ctx.state.kills = [];
      ctx.state.strikes = [];
      for (let i = 0; i < 3; i++) {
        await new Promise((res) => setTimeout(res, Math.max(0, ctx.faultAt + i * ctx.timing.repeatEveryMs - Date.now())));
        const primary = currentPrimary(ctx);
        const at = Date.now();
        const pid = signalProcess(ctx.region, primary, 'SIGKILL');
        ctx.state.kills.push({ node: primary, at });
        ctx.state.strikes.push({ from: at, to: Date.now() });
        ctx.event(`kill ${i + 1}/3: SIGKILL primary ${primary} (pid ${pid})`);
      }
    },
    async heal(ctx) {
      const last = ctx.state.kills?.at(-1);
      if (!last) return;
      const paths = statePaths(ctx.region.stateDir);
      await waitUntil('full redundancy after the last kill', () => {
        const r = readRedundancy(paths);
        return r?.full === true && Date.parse(r.since) > last.at ? r : null;
      }, 60_000, 250);
    },
    criteria: (ctx, f) => {
      const kills = ctx.state.kills ?? [];
      const promoted = f.events.filter((e) => e.source === 'db-failover' && e.at >= f.faultAt && e.sentence.startsWith('promoted'));
      const times = kills.map((k, i) => {
        const next = kills[i + 1]?.at ?? Infinity;
        const full = f.events.find((e) => e.source === 'db-failover' && e.at > k.at && e.at < next && e.sentence.startsWith('full redundancy again'));
        return full ? full.at - k.at : null;
      });
      const end = readRedundancy(statePaths(ctx.region.stateDir));
      return [
        failedRequestsCriterion(ctx, f),
        criterion('primaries killed', '3', kills.map((k) => k.node).join(', ') || 'none', kills.length === 3),
        criterion('replicas promoted', '3', promoted.map((e) => e.sentence.split(':')[0]!.replace('promoted ', '')).join(', ') || 'none', promoted.length === 3),
        criterion('time to full redundancy after each kill', 'reached before the next kill', times.map((t) => (t === null ? 'never' : secs(t))).join(', '), times.length === 3 && times.every((t) => t !== null)),
        criterion('redundancy at the end', 'as defined', end ? (end.full ? 'full' : `below: ${end.shortfall}`) : 'unknown', end?.full === true),
      ];
    },
  },
  {
    name: 'replicas-lost-then-primary-dies',
    story: 'Given a MariaDB primary with two semi-sync replicas and traffic, when both replicas stop (the primary then commits alone, acknowledging writes no replica has) and the primary dies just as they come back, then no replica is promoted (database.asyncPrimaryFailover: wait), the supervisor restarts the primary, which takes writes again, and no acknowledged write is lost.',
    fisAction: 'aws:rds:failover-db-cluster after aws:rds:reboot-db-instances of every reader (Aurora itself never acknowledges a write its storage quorum lacks)',
    async fault(ctx) {
      const t = topology(ctx.region);
      if (!t) throw new Error('no db-topology.json: is the region up?');
      ctx.state.primary = t.primary;
      for (const r of t.replicas) await stopProcessGracefully(ctx.region, r);
      ctx.event(`stopped the replicas ${t.replicas.join(', ')}: ${t.primary} now commits alone`);
      // Long enough for the controller to see the primary committing without acknowledgement, and for writes to pile up there.
      await new Promise((res) => setTimeout(res, 1_500));
      const pid = signalProcess(ctx.region, t.primary, 'SIGKILL');
      ctx.state.killed = { [t.primary]: pid };
      ctx.state.strikes = [{ from: Date.now(), to: Date.now() }];
      ctx.event(`SIGKILL primary ${t.primary} (pid ${pid}); starting the replicas again`);
      for (const r of t.replicas) await startProcess(ctx.region, r);
    },
    heal: restartKilled,
    async settle(ctx) {
      const paths = statePaths(ctx.region.stateDir);
      await waitUntil('full redundancy again', () => readRedundancy(paths)?.full === true, 60_000, 250);
    },
    criteria: (ctx, f) => {
      const db = f.events.filter((e) => e.source === 'db-failover' && e.at >= f.faultAt);
      const refused = db.find((e) => e.sentence.startsWith('not promoting'));
      const promoted = db.filter((e) => e.sentence.startsWith('promoted'));
      const t = topology(ctx.region);
      const end = readRedundancy(statePaths(ctx.region.stateDir));
      return [
        criterion('automatic promotion refused', 'a "not promoting" decision', refused ? refused.sentence.slice(0, 90) + '…' : 'none', !!refused),
        criterion('replicas promoted', '0', promoted.length, promoted.length === 0),
        criterion('primary after the fault', `${ctx.state.primary} (restarted, reopened)`, t?.primary ?? 'none', t?.primary === ctx.state.primary),
        criterion('writes resumed', '<= 10 s (the primary restarted in place)', secs(f.writeRecoveryMs), f.writeRecoveryMs <= 10_000),
        criterion('redundancy at the end', 'as defined', end ? (end.full ? 'full' : `below: ${end.shortfall}`) : 'unknown', end?.full === true),
      ];
    },
  },
  ...deployScenarios,
];

export const scenarioNames = scenarios.map((s) => s.name);

export function scenarioNamed(name: string): Scenario {
  const s = scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario "${name}": one of ${scenarioNames.join(', ')}, or all`);
  return s;
}
