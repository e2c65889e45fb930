// The topology drawing: definition (+ live state) → graph → ELK layout → SVG.
import type { ResolvedDefinition } from '@conduit/definition';
import { topologyGraph, type LiveState } from './graph.js';
import { layoutTopology } from './layout.js';
import { topologySvg } from './svg.js';

export { topologyGraph, graphNodes, type LiveState, type TopologyGraph, type GraphNode, type NodeState } from './graph.js';
export { layoutTopology, type TopologyLayout } from './layout.js';
export { topologySvg } from './svg.js';

/** The whole pipeline; without live state it draws what the definition plans (what `tier diagram` writes). */
export async function renderTopology(d: ResolvedDefinition, live?: LiveState): Promise<string> {
  const title = `${d.name}: ${live ? 'live topology' : 'topology from the definition'}`;
  return topologySvg(await layoutTopology(topologyGraph(d, live)), title);
}
