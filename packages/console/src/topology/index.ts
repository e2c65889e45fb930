// The topology drawing: definition (+ live state) → graph → ELK layout → SVG.
import type { ResolvedDefinition } from '@conduit/definition';
import { graphNodes, topologyGraph, type LiveState, type TopologyGraph } from './graph.js';
import { layoutTopology, type TopologyLayout } from './layout.js';
import { topologySvg } from './svg.js';

export { topologyGraph, graphNodes, type LiveState, type TopologyGraph, type GraphNode, type NodeState } from './graph.js';
export { layoutTopology, type TopologyLayout } from './layout.js';
export { topologySvg } from './svg.js';

/** The whole pipeline; without live state it draws what the definition plans (what `tier diagram` writes). */
export async function renderTopology(d: ResolvedDefinition, live?: LiveState): Promise<string> {
  const title = `${d.name}: ${live ? 'live topology' : 'topology from the definition'}`;
  return topologySvg(await layoutTopology(topologyGraph(d, live)), title);
}

/**
 * Renders the live topology every few seconds without laying it out again while only colours change:
 * the layout depends on the boxes, their labels and the arrows, not on health. One entry is kept.
 */
export class LiveTopology {
  /** The layout being computed or computed (a promise: concurrent redraws share one layout run). */
  private cached: { key: string; layout: Promise<TopologyLayout> } | null = null;
  /** @param layout how to lay out: in this process (default) or in a child (the console process). */
  constructor(
    private readonly d: ResolvedDefinition,
    private readonly layout: (g: TopologyGraph) => Promise<TopologyLayout> = layoutTopology,
  ) {}

  async render(live?: LiveState): Promise<string> {
    const graph = topologyGraph(this.d, live);
    const key = JSON.stringify(shape(graph));
    if (this.cached?.key !== key) {
      const entry = { key, layout: this.layout(graph) };
      this.cached = entry;
      entry.layout.catch(() => { if (this.cached === entry) this.cached = null; });
    }
    const placed = await this.cached.layout;
    const state = new Map(graphNodes(graph.root).map((n) => [n.id, n.state]));
    const layout = { ...placed, nodes: placed.nodes.map((n) => ({ ...n, state: state.get(n.id) ?? n.state })) };
    return topologySvg(layout, `${this.d.name}: ${live ? 'live topology' : 'topology from the definition'}`);
  }
}

/** The graph without the node states: what the layout depends on. */
const shape = (g: TopologyGraph) => ({ root: JSON.parse(JSON.stringify(g.root, (k, v) => (k === 'state' ? undefined : v))) as unknown, edges: g.edges });
