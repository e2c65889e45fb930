// A laid-out topology as a standalone SVG document: the README embeds it, the console shows it live.
// Boxes carry data-process / data-state so tests and the page can find a process's box.
import { FONT_SIZE, type TopologyLayout } from './layout.js';
import type { NodeState } from './graph.js';

const fill: Record<NodeState, string> = { planned: '#f4f6f8', healthy: '#d9f2d9', unhealthy: '#ffe7b3', down: '#f8c4c4' };
const stroke: Record<NodeState, string> = { planned: '#7a8794', healthy: '#2e7d32', unhealthy: '#b26a00', down: '#c62828' };
const edgeStyle = {
  traffic: 'stroke="#4a5a6a" stroke-width="1.2"',
  replication: 'stroke="#6a3fb5" stroke-width="1.6" stroke-dasharray="6 3"',
  monitor: 'stroke="#9aa5b1" stroke-width="1" stroke-dasharray="2 3"',
} as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function topologySvg(layout: TopologyLayout, title: string): string {
  const legendY = layout.height + 6;
  const legend = (['healthy', 'unhealthy', 'down', 'planned'] as NodeState[]).map((s, i) =>
    `<rect x="${10 + i * 110}" y="${legendY}" width="14" height="14" rx="3" fill="${fill[s]}" stroke="${stroke[s]}"/><text x="${30 + i * 110}" y="${legendY + 11}">${s}</text>`);
  const edgeLegend = (Object.keys(edgeStyle) as Array<keyof typeof edgeStyle>).map((k, i) =>
    `<line x1="${460 + i * 130}" y1="${legendY + 7}" x2="${490 + i * 130}" y2="${legendY + 7}" ${edgeStyle[k]}/><text x="${496 + i * 130}" y="${legendY + 11}">${k}</text>`);
  const width = Math.max(layout.width, 860);
  const height = layout.height + 28;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="ui-monospace, DejaVu Sans Mono, monospace" font-size="${FONT_SIZE}">`,
    `<title>${esc(title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#4a5a6a"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...layout.groups.map((g) =>
      `<g class="group" data-group="${esc(g.id)}"><rect x="${g.x}" y="${g.y}" width="${g.width}" height="${g.height}" rx="8" fill="${g.depth === 0 ? '#fbfcfd' : '#f0f4f8'}" stroke="#b8c2cc"/>` +
      `<text x="${g.x + 10}" y="${g.y + 17}" font-weight="bold" fill="#334">${esc(g.label)}</text></g>`),
    ...layout.edges.map((e) =>
      `<polyline class="edge edge-${e.kind}" data-edge="${esc(e.id)}" points="${e.points.map((p) => `${p.x},${p.y}`).join(' ')}" fill="none" ${edgeStyle[e.kind]} marker-end="url(#arrow)"/>`),
    ...layout.nodes.map((n) =>
      `<g class="node" data-process="${esc(n.process)}" data-node="${esc(n.id)}" data-state="${n.state}"${n.role ? ` data-role="${n.role}"` : ''}>` +
      `<rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="5" fill="${fill[n.state]}" stroke="${stroke[n.state]}" stroke-width="${n.role === 'primary' ? 2.6 : 1.3}"/>` +
      `<text x="${n.x + 9}" y="${n.y + 15}" font-weight="bold">${esc(n.label)}</text>` +
      `<text x="${n.x + 9}" y="${n.y + 29}" fill="#445">${esc(n.sub)}</text></g>`),
    ...legend,
    ...edgeLegend,
    '</svg>',
    '',
  ].join('\n');
}
