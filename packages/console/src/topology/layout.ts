// Lays the graph out with ELK (elkjs: the Eclipse Layout Kernel compiled to JavaScript, no native code):
// layered top to bottom, edges routed orthogonally through the nested groups. Every coordinate comes back
// relative to the root, so drawing needs no offsets.
import type { ELK as ElkApi, ElkExtendedEdge, ElkNode, ElkPoint } from 'elkjs/lib/elk-api.js';
import type { GraphEdge, GraphGroup, GraphNode, TopologyGraph } from './graph.js';

/** Monospace metrics the SVG uses: the layout and the drawing agree on box sizes. */
export const FONT_SIZE = 11;
const CHAR_WIDTH = 6.7;
const NODE_HEIGHT = 36;

export interface Box { x: number; y: number; width: number; height: number }
export interface PlacedNode extends GraphNode, Box {}
export interface PlacedGroup extends Box { id: string; label: string; depth: number }
export interface PlacedEdge extends GraphEdge { points: Array<{ x: number; y: number }> }
export interface TopologyLayout { width: number; height: number; groups: PlacedGroup[]; nodes: PlacedNode[]; edges: PlacedEdge[] }

const nodeWidth = (n: GraphNode) => Math.ceil(Math.max(n.label.length, n.sub.length) * CHAR_WIDTH + 18);

function toElk(g: GraphGroup): ElkNode {
  return {
    id: g.id,
    labels: [{ text: g.label, width: g.label.length * CHAR_WIDTH, height: FONT_SIZE + 4 }],
    layoutOptions: { 'elk.padding': '[top=26,left=12,bottom=12,right=12]', 'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT' },
    children: [...g.groups.map(toElk), ...g.nodes.map((n) => ({ id: n.id, width: nodeWidth(n), height: NODE_HEIGHT }))],
  };
}

// ELK is loaded on the first layout only (~35 MB once loaded): the console process lays out in a short-lived
// child (layout-child.ts) and never loads it. elk.bundled.js is CommonJS with an `exports.default` beside
// `module.exports`: under Node's ESM interop the default import is the constructor, while the typings
// describe the namespace.
let elk: ElkApi | null = null;
const loadElk = async (): Promise<ElkApi> => {
  if (!elk) {
    const ElkConstructor = (await import('elkjs/lib/elk.bundled.js')).default as unknown as new () => ElkApi;
    elk = new ElkConstructor();
  }
  return elk;
};

export async function layoutTopology(graph: TopologyGraph): Promise<TopologyLayout> {
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '14',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: [toElk(graph.root)],
    edges: graph.edges.map((e): ElkExtendedEdge => ({ id: e.id, sources: [e.from], targets: [e.to] })),
  };
  const out = await (await loadElk()).layout(root);

  const byId = new Map<string, GraphNode>();
  const groupIds = new Map<string, string>();
  const walk = (g: GraphGroup) => {
    groupIds.set(g.id, g.label);
    for (const n of g.nodes) byId.set(n.id, n);
    g.groups.forEach(walk);
  };
  walk(graph.root);

  const r = (v: number | undefined) => Math.round((v ?? 0) * 10) / 10;
  const groups: PlacedGroup[] = [];
  const nodes: PlacedNode[] = [];
  const visit = (n: ElkNode, depth: number) => {
    const box = { x: r(n.x), y: r(n.y), width: r(n.width), height: r(n.height) };
    if (groupIds.has(n.id)) groups.push({ id: n.id, label: groupIds.get(n.id)!, depth, ...box });
    const g = byId.get(n.id);
    if (g) nodes.push({ ...g, ...box });
    for (const c of n.children ?? []) visit(c, depth + 1);
  };
  for (const c of out.children ?? []) visit(c, 0);

  const edgeById = new Map(graph.edges.map((e) => [e.id, e]));
  const edges: PlacedEdge[] = (out.edges ?? []).map((e) => {
    const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).map((pt: ElkPoint) => ({ x: r(pt.x), y: r(pt.y) }));
    return { ...edgeById.get(e.id)!, points };
  });
  return { width: r(out.width), height: r(out.height), groups, nodes, edges };
}
