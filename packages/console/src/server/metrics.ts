// A panel's series over a time range: Prometheus range queries for most panels, the console's own samples of
// `tier status` for what Prometheus cannot see here (replica lag). Output is what uPlot draws: one shared
// time axis (seconds) and one value array per series, null where a series has no sample.
import type { Panel } from '@conduit/definition';

export interface PanelData {
  id: string;
  times: number[];
  series: Array<{ label: string; values: Array<number | null> }>;
  /** Why there is nothing to draw (Prometheus down, query error), for the page to say. */
  error: string | null;
}

type PromMatrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

const labelFor = (template: string, metric: Record<string, string>) => template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => metric[k] ?? '?');

/** Step so a range has about 240 points, never below the scrape interval. */
export const stepFor = (rangeSeconds: number, scrapeSeconds: number) => Math.max(scrapeSeconds, Math.ceil(rangeSeconds / 240));

export async function prometheusPanel(
  panel: Panel & { local: Extract<Panel['local'], { kind: 'prometheus' }> },
  prometheusUrl: string,
  range: { start: number; end: number; step: number },
): Promise<PanelData> {
  const times: number[] = [];
  for (let t = range.start; t <= range.end; t += range.step) times.push(t);
  const series: PanelData['series'] = [];
  try {
    for (const s of panel.local.series) {
      const url = `${prometheusUrl}/api/v1/query_range?${new URLSearchParams({ query: s.promql, start: String(range.start), end: String(range.end), step: String(range.step) })}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromMatrix } };
      if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${res.status}`);
      for (const r of body.data?.result ?? []) {
        const byTime = new Map(r.values.map(([t, v]) => [Math.round(t), Number(v)]));
        series.push({ label: labelFor(s.label, r.metric), values: times.map((t) => { const v = byTime.get(t); return v === undefined || !Number.isFinite(v) ? null : v; }) });
      }
    }
  } catch (e) {
    return { id: panel.id, times, series, error: `Prometheus: ${(e as Error).message}` };
  }
  series.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  return { id: panel.id, times, series, error: null };
}

/** Samples the console takes itself (every few seconds), kept for `keepSeconds`. */
export class SampleSeries {
  private readonly points: Array<{ t: number; values: Record<string, number> }> = [];
  constructor(private readonly keepSeconds: number) {}

  add(t: number, values: Record<string, number>): void {
    this.points.push({ t, values });
    while (this.points.length > 0 && this.points[0]!.t < t - this.keepSeconds) this.points.shift();
  }

  panel(id: string, range: { start: number; end: number }): PanelData {
    const inRange = this.points.filter((p) => p.t >= range.start && p.t <= range.end);
    const labels = [...new Set(inRange.flatMap((p) => Object.keys(p.values)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return {
      id,
      times: inRange.map((p) => p.t),
      series: labels.map((label) => ({ label, values: inRange.map((p) => p.values[label] ?? null) })),
      error: null,
    };
  }
}
