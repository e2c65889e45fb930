// The deploy drills: a rolling deploy (`tier deploy`'s regionDeploy) under the drill's traffic, with a good
// release, one whose instances never turn ready, and one answering 500 on GET /api/articles (test releases
// built with a fault knob of packages/release, never a patched source). AWS: an instance refresh with a
// checkpoint and alarm-based automatic rollback.
import { currentVersion, regionDeploy, sourceVersion, statePaths, type DeployReport, type ReleaseFault } from '@conduit/local';
import { criterion, type DrillContext, type DrillFigures, type Scenario } from './drill.js';
import { processes } from './region.js';

const FIS = 'AWS: autoscaling:StartInstanceRefresh (checkpoint after the first instance, AutoRollback on CloudWatch alarms)';
const failedAll = (f: DrillFigures) => f.samples.filter((s) => s.outcome !== 'ok').length;
const instances = (ctx: DrillContext) => processes(ctx.region).filter((p) => (p.tier === 'api' || p.tier === 'front') && p.pid !== null);

/** Starts the deploy in the background (the drill's traffic goes on); heal waits for its end. */
function startDeploy(ctx: DrillContext, o: { fault?: ReleaseFault; variant?: string; version?: string }): void {
  ctx.state.instancesBefore = instances(ctx).map((p) => [p.name, p.pid]);
  ctx.event(`tier deploy ${o.version ?? `${sourceVersion()}${o.fault ? `-fault-${o.fault}` : ''}${o.variant ? `-${o.variant}` : ''}`}`);
  ctx.state.deploy = regionDeploy({ definition: ctx.region.definition, stateDir: ctx.region.stateDir, ...o, progress: (l) => ctx.event(l, 'deploy') });
}

async function finishDeploy(ctx: DrillContext): Promise<void> {
  const r = await ctx.state.deploy!;
  ctx.state.deployReport = r;
  ctx.event(`deploy ${r.result}${r.error ? `: ${r.error}` : ''} (${r.seconds.toFixed(1)} s)`);
}

const report = (ctx: DrillContext): DeployReport => {
  const r = ctx.state.deployReport;
  if (!r) throw new Error('the deploy did not finish');
  return r;
};

/** A deploy scenario: its fault starts the deploy, its heal waits for the deploy's end. */
const deployScenario = (name: string, story: string, minFaultWindowMs: number, deploy: (ctx: DrillContext) => Parameters<typeof startDeploy>[1], criteria: Scenario['criteria']): Scenario => ({
  name, story, fisAction: FIS, minFaultWindowMs, criteria,
  async fault(ctx) {
    startDeploy(ctx, deploy(ctx));
  },
  heal: finishDeploy,
});

/** Every API and front instance runs `version`. */
function allOn(ctx: DrillContext, version: string) {
  const off = instances(ctx).filter((p) => p.version !== version).map((p) => `${p.name} on ${p.version}`);
  return criterion(`every instance on ${version.slice(0, 12)}…`, 'yes', off.length ? off.join(', ') : 'yes', off.length === 0);
}

export const deployScenarios: Scenario[] = [
  deployScenario(
    'deploy',
    'Given the region under traffic, when a new release rolls out (API then front, zone by zone, canary bake after the first instance of each tier), then no request fails, no acknowledged write is lost, and every instance runs the new release.',
    25_000,
    // Something to deploy: the sources' release, or a second build of it when the region runs that already.
    (ctx) => (currentVersion(statePaths(ctx.region.stateDir)) === sourceVersion() ? { variant: 'b' } : {}),
    (ctx, f) => {
      const r = report(ctx);
      return [
        criterion('deploy result', 'ok', `${r.result}, ${r.replaced.length} instance(s) replaced${r.error ? `: ${r.error}` : ''}`, r.result === 'ok'),
        criterion('failed requests', '0', failedAll(f), failedAll(f) === 0),
        allOn(ctx, r.to),
      ];
    },
  ),
  deployScenario(
    'deploy-bad-health',
    'Given the region under traffic, when a release whose instances never become ready is deployed, then the deploy stops at the first instance and rolls back, nothing old is drained, and no request fails.',
    6_000,
    () => ({ fault: 'never-ready' }),
    (ctx, f) => {
      const r = report(ctx);
      const after = instances(ctx).map((p) => [p.name, p.pid]);
      const same = JSON.stringify(after) === JSON.stringify(ctx.state.instancesBefore);
      return [
        criterion('deploy result', 'rolled back at the health barrier', `${r.result}: ${r.error ?? ''}`, r.result === 'rolled back' && (r.error ?? '').includes('healthy')),
        criterion('old instances drained', '0', r.replaced.length, r.replaced.length === 0),
        criterion('instances untouched (same names and pids)', 'yes', same ? 'yes' : JSON.stringify(after), same),
        criterion('failed requests', '0', failedAll(f), failedAll(f) === 0),
      ];
    },
  ),
  deployScenario(
    'deploy-bad-errors',
    'Given the region under traffic, when a release that starts fine but answers 500 on GET /api/articles is deployed, then the canary analysis catches it within deploy.bakeSeconds and the deploy rolls back.',
    12_000,
    () => ({ fault: 'error-route' }),
    (ctx, f) => {
      const r = report(ctx);
      const bake = ctx.region.definition.deploy.bakeSeconds;
      const started = f.events.find((e) => e.source === 'deploy' && e.sentence.includes('baking canary'));
      const caught = f.events.find((e) => e.source === 'deploy' && e.sentence.includes('failed share'));
      const within = started && caught ? caught.at - started.at : null;
      const c = r.canaries.find((x) => !x.ok)?.canary;
      return [
        criterion('deploy result', 'rolled back by the canary analysis', `${r.result}: ${r.error ?? ''}`, r.result === 'rolled back' && (r.error ?? '').includes('canary')),
        criterion('caught within deploy.bakeSeconds', `<= ${bake} s`, within === null ? 'not caught' : `${(within / 1000).toFixed(1)} s`, within !== null && within <= bake * 1000 + 1_000),
        criterion('requests the bad instance failed', 'reported (> 0: the fault was hit)', c ? `${c.errors} answered 5xx to clients + ${c.retried} retried on an old instance, of ${c.requests}` : 'none', !!c && c.errors + c.retried > 0),
        criterion('failed idempotent requests (clients)', '0', f.failedIdempotent, f.failedIdempotent === 0),
        allOn(ctx, r.from ?? ''),
      ];
    },
  ),
];
