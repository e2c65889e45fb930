// A panel's series over a time range, from Prometheus range queries (the console's own samples, per-process
// CPU/RSS and replica lag, reach Prometheus through its /metrics). Output is what uPlot draws: one shared
// time axis (seconds) and one value array per series, null where a series has no sample.
import type { Panel } from '@conduit/definition';
import { httpGet } from '@conduit/local/console-reads';

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
      // node:http, not fetch: undici (fetch) costs the console ~15 MB of RSS on first use and grows with use.
      const res = await httpGet(url, { timeoutMs: 5_000 });
      const body = JSON.parse(res.body) as { status: string; error?: string; data?: { result: PromMatrix } };
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
