// Figures from load samples: percentiles, phase split around the fault, recovery time.
import type { Sample } from './load.js';

/** Nearest-rank percentile of an unsorted list; null for an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface PhaseStats {
  phase: 'before' | 'during' | 'after' | 'all';
  requests: number;
  ok: number;
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function phaseStats(phase: PhaseStats['phase'], samples: readonly Sample[]): PhaseStats {
  const lat = samples.map((s) => s.latencyMs);
  const ok = samples.filter((s) => s.outcome === 'ok').length;
  return {
    phase,
    requests: samples.length,
    ok,
    failed: samples.length - ok,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length ? Math.max(...lat) : null,
  };
}

/** Splits samples by when they were due: before the fault, between fault and heal, after the heal. */
export function splitPhases(samples: readonly Sample[], faultAt: number, healedAt: number): PhaseStats[] {
  return [
    phaseStats('before', samples.filter((s) => s.dueAt < faultAt)),
    phaseStats('during', samples.filter((s) => s.dueAt >= faultAt && s.dueAt < healedAt)),
    phaseStats('after', samples.filter((s) => s.dueAt >= healedAt)),
    phaseStats('all', samples),
  ];
}

/** A sample a client would call an outage: an error, or an answer slower than slowMs. */
export const isBad = (s: Sample, slowMs: number) => s.outcome !== 'ok' || s.latencyMs > slowMs;

/**
 * Time from the fault until service recovered: the end of the last bad request (error or slower than slowMs)
 * that ended after the fault, minus the fault time; 0 when clients saw nothing.
 */
export function recoveryMs(samples: readonly Sample[], faultAt: number, slowMs = 2000, filter: (s: Sample) => boolean = () => true): number {
  let last = faultAt;
  for (const s of samples) if (filter(s) && s.endedAt >= faultAt && isBad(s, slowMs)) last = Math.max(last, s.endedAt);
  return last - faultAt;
}

export const countBy = <T>(xs: readonly T[], key: (x: T) => string | null): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};
