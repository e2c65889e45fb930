// The capacity curve as a small hand-written SVG: arrival rate → p50 and p99 latency, errors, the SLO line and
// the knee marked. Pure: the committed result in, the SVG text out.
import type { CapacityResult } from '@conduit/definition';

const W = 640;
const H = 360;
const M = { left: 56, right: 56, top: 64, bottom: 44 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick values from 0 to at least max. */
function ticks(max: number, count = 5): number[] {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; out.length === 0 || out[out.length - 1]! < max; v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}

export function capacityChart(c: CapacityResult): string {
  const steps = c.steps;
  const xMax = ticks(Math.max(...steps.map((s) => s.rate), 1) * 1.08).at(-1)!;
  // Latency axis: up to twice the SLO, so a breach shows without one huge p99 flattening the rest.
  const yMax = ticks(Math.max(c.slo.p99Ms * 2, ...steps.map((s) => Math.min(s.p50Ms ?? 0, c.slo.p99Ms * 2)))).at(-1)!;
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (Math.min(v, yMax) / yMax) * (H - M.top - M.bottom);
  const eMax = Math.max(0.05, ...steps.map((s) => s.errorRate));
  const ye = (v: number) => H - M.bottom - (v / eMax) * (H - M.top - M.bottom);
  const line = (key: 'p50Ms' | 'p99Ms') =>
    steps.filter((s) => s[key] !== null).map((s, i) => `${i ? 'L' : 'M'}${x(s.rate).toFixed(1)},${y(s[key]!).toFixed(1)}`).join(' ');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${M.left}" y="18" font-size="13" font-weight="bold">${esc(`Capacity of one API instance: the drills' mix through the edge (${c.measuredAt.slice(0, 10)}, ${c.machine.cpus} CPUs)`)}</text>`);
  out.push(`<text x="${M.left}" y="34" fill="#444">${esc(`knee ${c.knee.edgeRps} rps at the edge = ${c.knee.apiRpsPerInstance} rps at the instance, CPU ${c.knee.cpuPercent ?? '?'} %, RSS ${c.knee.rssMb ?? '?'} MB`)}</text>`);
  out.push(`<text x="${M.left}" y="48" fill="#444">${esc(`${c.ceiling.kneePercent} % of the same-run ceiling (same load generator, bare node:http): ${c.ceiling.rps} rps`)}</text>`);
  // Axes and grid.
  for (const t of ticks(xMax)) out.push(`<line x1="${x(t)}" y1="${H - M.bottom}" x2="${x(t)}" y2="${M.top}" stroke="#eee"/><text x="${x(t)}" y="${H - M.bottom + 14}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(yMax)) out.push(`<line x1="${M.left}" y1="${y(t)}" x2="${W - M.right}" y2="${y(t)}" stroke="#eee"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  for (const t of [0, eMax / 2, eMax]) out.push(`<text x="${W - M.right + 6}" y="${ye(t) + 4}" fill="#b00">${(t * 100).toFixed(1)} %</text>`);
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/><line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(W + M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">arrival rate at the edge (requests/s, open model)</text>`);
  out.push(`<text transform="translate(14 ${(H + M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`);
  out.push(`<text transform="translate(${W - 8} ${(H + M.top - M.bottom) / 2}) rotate(90)" text-anchor="middle" fill="#b00">errors</text>`);
  // Errors as bars, the SLO, the knee, then the two latency lines on top.
  const bw = Math.max(3, (W - M.left - M.right) / Math.max(steps.length, 1) / 4);
  for (const s of steps) if (s.errorRate > 0) out.push(`<rect x="${(x(s.rate) - bw / 2).toFixed(1)}" y="${ye(s.errorRate).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - M.bottom - ye(s.errorRate)).toFixed(1)}" fill="#b00" opacity="0.35"/>`);
  out.push(`<line x1="${M.left}" y1="${y(c.slo.p99Ms)}" x2="${W - M.right}" y2="${y(c.slo.p99Ms)}" stroke="#b00" stroke-dasharray="6 4"/><text x="${W - M.right - 4}" y="${y(c.slo.p99Ms) - 4}" text-anchor="end" fill="#b00">SLO p99 ${c.slo.p99Ms} ms</text>`);
  out.push(`<line x1="${x(c.knee.edgeRps)}" y1="${M.top}" x2="${x(c.knee.edgeRps)}" y2="${H - M.bottom}" stroke="#080" stroke-dasharray="4 3"/><text x="${x(c.knee.edgeRps) + 4}" y="${M.top + 12}" fill="#080">knee ${c.knee.edgeRps} rps</text>`);
  out.push(`<path d="${line('p50Ms')}" fill="none" stroke="#1f6feb" stroke-width="2"/>`);
  out.push(`<path d="${line('p99Ms')}" fill="none" stroke="#e36209" stroke-width="2"/>`);
  for (const s of steps) {
    if (s.p50Ms !== null) out.push(`<circle cx="${x(s.rate).toFixed(1)}" cy="${y(s.p50Ms).toFixed(1)}" r="2.5" fill="#1f6feb"/>`);
    if (s.p99Ms !== null) out.push(`<circle cx="${x(s.rate).toFixed(1)}" cy="${y(s.p99Ms).toFixed(1)}" r="2.5" fill="${s.withinSlo ? '#e36209' : '#b00'}"/>`);
  }
  out.push(`<text x="${M.left + 8}" y="${M.top + 12}" fill="#1f6feb">p50</text><text x="${M.left + 36}" y="${M.top + 12}" fill="#e36209">p99 (capped at ${yMax} ms)</text><text x="${M.left + 170}" y="${M.top + 12}" fill="#b00">errors (bars, right axis)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
