// The drill report: one JSON document per run, and the same figures printed as a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SetCheck } from './ledger.js';
import type { PhaseStats } from './stats.js';
import type { Sample } from './load.js';

export interface DrillEvent {
  /** ms since the epoch, and ms since the fault (negative before it). */
  at: number;
  offsetMs: number;
  /** Who said it: the drill itself, the db-failover controller, Sentinel, the supervisor… */
  source: string;
  sentence: string;
}

export interface Criterion {
  name: string;
  expected: string;
  actual: string;
  pass: boolean;
}

export interface DrillReport {
  scenario: string;
  /** Given/when/then, as the scenario reads. */
  story: string;
  startedAt: string;
  endedAt: string;
  faultAt: string;
  healedAt: string;
  load: { ratePerSecond: number; durationMs: number; sent: number; target: string };
  statusCounts: Record<string, number>;
  errorsByKind: Record<string, number>;
  failedByRequestKind: Record<string, number>;
  /** Failures per request label, e.g. "GET comments": which calls clients saw fail. */
  failedByLabel: Record<string, number>;
  /** The first failed requests, each with when (s since the fault), how long it took and who answered what. */
  failures: FailedRequest[];
  failedIdempotent: number;
  phases: PhaseStats[];
  recovery: { serviceMs: number; writesMs: number; readsMs: number };
  writes: Omit<SetCheck, 'lost' | 'unexpected' | 'recovered'> & { lost: string[]; unexpected: string[]; recovered: number; lostCount: number; unexpectedCount: number };
  /** Per second relative to the fault (by due time): requests and failures by kind and error. */
  timeline: { second: number; sent: number; failed: number; failedByKind: Record<string, number>; errors: Record<string, number> }[];
  events: DrillEvent[];
  criteria: Criterion[];
  pass: boolean;
}

export interface FailedRequest {
  /** Seconds from the fault to when it was sent. */
  sentAtS: number;
  label: string;
  error: string;
  latencyMs: number;
  detail: string | null;
}

/** The first `n` failed requests of a run, in the order they were sent. */
export function firstFailures(samples: readonly Sample[], faultAt: number, n = 10): FailedRequest[] {
  return samples
    .filter((s) => s.outcome !== 'ok')
    .sort((a, b) => a.sentAt - b.sentAt)
    .slice(0, n)
    .map((s) => ({ sentAtS: Math.round((s.sentAt - faultAt) / 10) / 100, label: s.label, error: s.errorKind ?? s.outcome, latencyMs: Math.round(s.endedAt - s.sentAt), detail: s.detail ?? null }));
}

const fmtMs = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
const pad = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
};

/** The report as a human reads it in a terminal. */
export function formatReport(r: DrillReport): string {
  const lines: string[] = [];
  lines.push(`drill ${r.scenario}: ${r.pass ? 'PASS' : 'FAIL'}`);
  lines.push(`  ${r.story}`);
  lines.push(`  load: ${r.load.sent} requests at ${r.load.ratePerSecond}/s for ${(r.load.durationMs / 1000).toFixed(0)} s to ${r.load.target}`);
  lines.push('');
  lines.push(
    pad([
      ['phase', 'requests', 'ok', 'failed', 'p50', 'p99', 'max'],
      ...r.phases.map((p) => [p.phase, String(p.requests), String(p.ok), String(p.failed), fmtMs(p.p50Ms), fmtMs(p.p99Ms), fmtMs(p.maxMs)]),
    ])
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  lines.push('');
  lines.push(`  status: ${Object.entries(r.statusCounts).map(([k, v]) => `${k}×${v}`).join(' ') || '-'}`);
  lines.push(`  errors: ${Object.entries(r.errorsByKind).map(([k, v]) => `${k}×${v}`).join(' ') || 'none'}${Object.keys(r.failedByLabel).length ? ` (failed: ${Object.entries(r.failedByLabel).map(([k, v]) => `${k}×${v}`).join(', ')})` : ''}`);
  for (const f of r.failures) {
    lines.push(`    failed: ${f.sentAtS >= 0 ? '+' : ''}${f.sentAtS.toFixed(2)} s ${f.label}: ${f.error} after ${f.latencyMs} ms${f.detail ? ` (${f.detail})` : ''}`);
  }
  lines.push(`  recovery: service ${fmtMs(r.recovery.serviceMs)}, writes ${fmtMs(r.recovery.writesMs)}, reads ${fmtMs(r.recovery.readsMs)}`);
  const w = r.writes;
  lines.push(
    `  writes: ${w.attempted} attempted, ${w.acknowledged} acknowledged, ${w.failed} failed, ${w.indeterminate} indeterminate; ` +
      `lost ${w.lostCount}, unexpected ${w.unexpectedCount}, recovered ${w.recovered}, duplicated ${w.duplicated.length}, failed-but-present ${w.failedButPresent.length}`,
  );
  if (w.lostCount) lines.push(`    lost: ${w.lost.slice(0, 10).join(', ')}${w.lostCount > 10 ? ' …' : ''}`);
  if (w.unexpectedCount) lines.push(`    unexpected: ${w.unexpected.slice(0, 10).join(', ')}${w.unexpectedCount > 10 ? ' …' : ''}`);
  const bad = r.timeline.filter((t) => t.failed > 0);
  if (bad.length) {
    lines.push(`  failures by second since the fault: ${bad.map((t) => `${t.second >= 0 ? '+' : ''}${t.second}s ${t.failed}/${t.sent} (${Object.entries(t.errors).map(([k, v]) => `${k}×${v}`).join(' ')}; ${Object.entries(t.failedByKind).map(([k, v]) => `${k} ${v}`).join(', ')})`).join(' · ')}`);
  }
  if (r.events.length) {
    lines.push('  events:');
    for (const e of r.events) lines.push(`    ${e.offsetMs >= 0 ? '+' : ''}${(e.offsetMs / 1000).toFixed(2)} s  [${e.source}] ${e.sentence}`);
  }
  lines.push('  criteria:');
  for (const c of r.criteria) lines.push(`    ${c.pass ? 'ok  ' : 'FAIL'}  ${c.name}: expected ${c.expected}, got ${c.actual}`);
  return lines.join('\n');
}

/** Writes the report to <stateDir>/drills/<scenario>-<timestamp>.json and returns the path. */
export function writeReport(stateDir: string, r: DrillReport): string {
  const dir = join(stateDir, 'drills');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.scenario}-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}
