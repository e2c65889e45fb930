// The layout as a short-lived child process: a topology graph (JSON) on stdin, its ELK layout (JSON) on
// stdout, then exit. The console lays out here so ELK (~35 MB once loaded) never stays in its memory; the
// layout is computed once per shape of the region (boxes, labels, arrows), not on every redraw.
import { layoutTopology } from './layout.js';
import type { TopologyGraph } from './graph.js';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const graph = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TopologyGraph;
process.stdout.write(JSON.stringify(await layoutTopology(graph)));
