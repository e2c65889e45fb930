// The region failover controller's brain (Route 53 health checks + the Aurora Global Database failover an
// operator or a runbook starts on AWS): a pure function from what the standby region observed to one decision.
// It runs in the standby region only: the region that would take over is the one that watches.

export interface RegionObserved {
  now: number;
  /** This region's role; only a standby decides anything. */
  role: 'primary' | 'standby' | null;
  /** The other (writer) region's health URL answered 200. */
  peerHealthy: boolean;
  /** Why it did not (HTTP status, connection refused, timeout), null when healthy. */
  peerError: string | null;
}

export interface RegionPolicy {
  /** local.regionFailoverAfterMs: how long the writer region must fail before the standby takes over. */
  failoverAfterMs: number;
  /** regions.failover */
  mode: 'automatic' | 'manual';
  regionName: string;
  peerName: string;
}

/** What the controller remembers between ticks: when the current outage started, and whether it said so. */
export interface RegionMemory {
  unhealthySince: number | null;
  reported: boolean;
}

export type RegionDecision =
  | { kind: 'none' }
  /** First failed check of an outage, or the end of one: said once. */
  | { kind: 'note'; sentence: string }
  | { kind: 'promote'; sentence: string; unhealthyMs: number }
  /** regions.failover manual: the outage passed the threshold, an operator must run `tier region failover`. */
  | { kind: 'await-operator'; sentence: string };

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Decides; returns the new memory with it (the memory is the only state kept between ticks). */
export function decideRegion(o: RegionObserved, p: RegionPolicy, m: RegionMemory): { decision: RegionDecision; memory: RegionMemory } {
  if (o.role !== 'standby') return { decision: { kind: 'none' }, memory: { unhealthySince: null, reported: false } };
  if (o.peerHealthy) {
    if (m.unhealthySince === null) return { decision: { kind: 'none' }, memory: m };
    return {
      decision: { kind: 'note', sentence: `${p.peerName} is healthy again after ${secs(o.now - m.unhealthySince)}: no region failover (threshold ${secs(p.failoverAfterMs)})` },
      memory: { unhealthySince: null, reported: false },
    };
  }
  const since = m.unhealthySince ?? o.now;
  const down = o.now - since;
  if (down < p.failoverAfterMs) {
    if (m.unhealthySince !== null) return { decision: { kind: 'none' }, memory: m };
    return {
      decision: { kind: 'note', sentence: `${p.peerName} failed its region health check (${o.peerError ?? 'unhealthy'}): ${p.regionName} takes over if it lasts ${secs(p.failoverAfterMs)}` },
      memory: { unhealthySince: since, reported: false },
    };
  }
  if (p.mode === 'manual') {
    if (m.reported) return { decision: { kind: 'none' }, memory: m };
    return {
      decision: { kind: 'await-operator', sentence: `${p.peerName} has failed its region health check for ${secs(down)} (${o.peerError ?? 'unhealthy'}); regions.failover is manual: run \`tier region failover\` to promote ${p.regionName}` },
      memory: { unhealthySince: since, reported: true },
    };
  }
  return {
    decision: { kind: 'promote', unhealthyMs: down, sentence: `promote ${p.regionName}: ${p.peerName} failed its region health check for ${secs(down)} (${o.peerError ?? 'unhealthy'}), threshold ${secs(p.failoverAfterMs)}` },
    memory: { unhealthySince: since, reported: true },
  };
}
