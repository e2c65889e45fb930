// Canary analysis of a rolling deploy, pure: HAProxy's per-server counters at the start and end of the
// bake window in, a verdict with its figures out. The canary (first new instance of a tier) is compared
// with the old instances serving the same traffic at the same time, against the definition's `deploy`
// thresholds: failed share (5xx + retried elsewhere; new - old <= maxErrorRateIncrease) and response time (new / old <= maxLatencyRatio,
// judged once the canary answered minCanaryRequests).
import type { ResolvedDefinition } from '@conduit/definition';
import type { ServerStat } from './runner/haproxy.js';

export interface GroupFigures {
  servers: string[];
  requests: number;
  /** 5xx answers that reached clients (hrsp_5xx). */
  errors: number;
  /** Requests HAProxy retried on another server after this one failed them (a 5xx to a GET, a failed connection). */
  retried: number;
  /** (errors + retried) / requests (0 without requests): what the instances failed, whether clients saw it or not. */
  errorRate: number;
  /** Request-weighted mean of HAProxy's rtime over the group, ms. */
  rtimeMs: number;
}

export interface CanaryVerdict {
  ok: boolean;
  /** One sentence for the progress line and the report. */
  sentence: string;
  canary: GroupFigures;
  old: GroupFigures;
}

function figures(names: string[], before: ServerStat[], after: ServerStat[]): GroupFigures {
  let requests = 0;
  let errors = 0;
  let retried = 0;
  let weighted = 0;
  for (const name of names) {
    const a = after.find((s) => s.name === name);
    if (!a) continue;
    const b = before.find((s) => s.name === name);
    const n = Math.max(0, a.total - (b?.total ?? 0));
    requests += n;
    errors += Math.max(0, a.http5xx - (b?.http5xx ?? 0));
    retried += Math.max(0, a.retried - (b?.retried ?? 0));
    weighted += a.rtimeMs * n;
  }
  return { servers: names, requests, errors, retried, errorRate: requests ? Math.min(1, (errors + retried) / requests) : 0, rtimeMs: requests ? weighted / requests : 0 };
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;

export function judgeCanary(d: ResolvedDefinition, canaryNames: string[], oldNames: string[], before: ServerStat[], after: ServerStat[]): CanaryVerdict {
  const t = d.deploy;
  const canary = figures(canaryNames, before, after);
  const old = figures(oldNames, before, after);
  const down = canaryNames.filter((n) => !after.find((s) => s.name === n)?.up);
  const group = (g: GroupFigures) => `${g.requests} requests, ${g.errors} 5xx + ${g.retried} retried elsewhere (${pct(g.errorRate)}), ${g.rtimeMs.toFixed(0)} ms`;
  const said = `canary ${canaryNames.join(', ')}: ${group(canary)}; old ${oldNames.join(', ') || '(none)'}: ${group(old)}`;
  const fail = (why: string): CanaryVerdict => ({ ok: false, sentence: `${why} — ${said}`, canary, old });
  if (down.length) return fail(`canary ${down.join(', ')} is no longer up in HAProxy`);
  if (canary.errors + canary.retried > 0 && canary.errorRate - old.errorRate > t.maxErrorRateIncrease) {
    return fail(`failed share ${pct(canary.errorRate)} exceeds the old instances' ${pct(old.errorRate)} by more than deploy.maxErrorRateIncrease (${pct(t.maxErrorRateIncrease)})`);
  }
  // Latency is only judged on enough requests on both sides, and both times count as at least latencyFloorMs.
  const floor = (ms: number) => Math.max(ms, t.latencyFloorMs);
  if (canary.requests >= t.minCanaryRequests && old.requests >= t.minCanaryRequests && floor(canary.rtimeMs) / floor(old.rtimeMs) > t.maxLatencyRatio) {
    return fail(`response time ${canary.rtimeMs.toFixed(0)} ms is more than deploy.maxLatencyRatio (${t.maxLatencyRatio}) times the old instances' ${old.rtimeMs.toFixed(0)} ms (both counted as at least deploy.latencyFloorMs=${t.latencyFloorMs} ms)`);
  }
  const note = canary.requests < t.minCanaryRequests ? ` (fewer than deploy.minCanaryRequests=${t.minCanaryRequests} requests: latency not judged)` : '';
  return { ok: true, sentence: `canary passed${note} — ${said}`, canary, old };
}
