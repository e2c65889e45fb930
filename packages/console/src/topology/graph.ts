// The region as a graph, from the resolved definition and (optionally) the live state `tier status --json`
// reports: region → tiers (edge, load balancers, front, API, database endpoints, database, cache, monitoring)
// → instances and nodes, each labelled with its zone, with
// the traffic paths, the writer/reader endpoints and the replication arrows. Pure: no I/O.
import type { ResolvedDefinition } from '@conduit/definition';
import { runsDns } from '@conduit/local/console-reads';

export type NodeState = 'healthy' | 'unhealthy' | 'down' | 'planned';

export interface GraphNode {
  id: string;
  /** The supervised process this box stands for (the four LB endpoints are one process, `lb`). */
  process: string;
  label: string;
  /** Second line: port, role, state detail. */
  sub: string;
  tier: string;
  state: NodeState;
  role: 'primary' | 'replica' | null;
}

export interface GraphGroup {
  id: string;
  label: string;
  nodes: GraphNode[];
  groups: GraphGroup[];
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  kind: 'traffic' | 'replication' | 'monitor';
}

export interface TopologyGraph {
  root: GraphGroup;
  edges: GraphEdge[];
}

/** The subset of `tier status --json` the drawing needs. */
export interface LiveState {
  processes: Array<{ name: string; tier: string; zone: string | null; port: number; health: 'healthy' | 'unhealthy' | 'down'; role: string | null; state?: string }>;
  topology: { primary: string; replicas: string[] } | null;
}

const slotNames = (slots: ReadonlyArray<{ name: string }>, count: number) => slots.slice(0, count).map((s) => s.name);

export function topologyGraph(d: ResolvedDefinition, live?: LiveState): TopologyGraph {
  const p = d.local.ports;
  const byName = new Map((live?.processes ?? []).map((x) => [x.name, x]));
  const stateOf = (process: string): NodeState => byName.get(process)?.health ?? (live ? 'down' : 'planned');
  const dbPrimary = live?.topology?.primary ?? d.dbNodes.find((n) => n.initialRole === 'primary')!.name;
  const cachePrimary =
    (live && live.processes.find((x) => x.tier === 'cache' && x.role === 'primary')?.name) ?? d.cacheNodes.find((n) => n.initialRole === 'primary')!.name;

  // Scalable tiers: the definition's desired count, or the instances that run now (the autoscaler moves it).
  const instancesOf = (tier: 'front' | 'api') => {
    const slots = d[`${tier}Slots`];
    if (!live) return slotNames(slots, d[tier].instances.desired);
    return slots.filter((s) => byName.has(s.name)).map((s) => s.name);
  };
  const fronts = instancesOf('front');
  const apis = instancesOf('api');

  const node = (id: string, tier: string, sub: string, process = id, role: GraphNode['role'] = null): GraphNode => ({
    id, process, label: id, sub, tier, state: stateOf(process), role,
  });
  // One group per tier, laid out top to bottom in the order a request travels; each box names its zone.
  const group = (id: string, label: string, nodes: GraphNode[]): GraphGroup => ({ id, label, nodes, groups: [] });
  const zoned = (s: { zone: string }) => `zone ${s.zone}`;
  const dbRole = (name: string) => (name === dbPrimary ? 'primary' : 'replica');
  const cacheRole = (name: string) => (name === cachePrimary ? 'primary' : 'replica');
  const groups: GraphGroup[] = [
    group('edge-tier', 'edge', [
      // This region's server of the global failover record (one per region; Route 53 on AWS).
      ...(runsDns(d) ? [node('dns', 'dns', `PowerDNS :${p.dns} (global entry point)`)] : []),
      node('edge', 'edge', `varnish :${p.edge}`),
      ...(d.observability.console ? [node('edge-access', 'edge', 'varnishncsa → access log')] : []),
    ]),
    group('lb-tier', 'load balancers', [node('lb-front', 'lb', `haproxy :${p.front}`, 'lb'), node('lb-api', 'lb', `haproxy :${p.api}`, 'lb')]),
    group('front-tier', 'front tier', d.frontSlots.filter((s) => fronts.includes(s.name)).map((s) => node(s.name, 'front', `nginx :${s.port} ${zoned(s)}`))),
    group('api-tier', 'API tier', d.apiSlots.filter((s) => apis.includes(s.name)).map((s) => node(s.name, 'api', `node :${s.port} ${zoned(s)}`))),
    group('db-endpoints', 'database endpoints', [node('db-writer', 'lb', `writer :${p.dbWriter}`, 'lb'), node('db-reader', 'lb', `reader :${p.dbReader}`, 'lb')]),
    group('db-tier', 'database (MariaDB, GTID, semi-sync)', d.dbNodes.map((n) => node(n.name, 'db', `${dbRole(n.name)} :${n.port} ${zoned(n)}`, n.name, dbRole(n.name)))),
    group('cache-tier', 'cache (Redis + Sentinel)', [
      ...d.cacheNodes.map((n) => node(n.name, 'cache', `${cacheRole(n.name)} :${n.port} ${zoned(n)}`, n.name, cacheRole(n.name))),
      ...d.sentinelNodes.map((s) => node(s.name, 'sentinel', `sentinel :${s.port} ${zoned(s)}`)),
    ]),
    group('monitoring', 'monitoring', [
      node('prometheus', 'monitoring', `:${p.prometheus}`),
      node('mysqld-exporter', 'monitoring', `:${p.mysqldExporter}`),
      node('redis-exporter', 'monitoring', `:${p.redisExporter}`),
      ...(d.observability.console
        ? [node('alertmanager', 'monitoring', `:${p.alertmanager}`), node('blackbox-exporter', 'monitoring', `probes :${p.blackboxExporter}`), node('console', 'monitoring', `ops console :${p.console}`)]
        : []),
    ]),
  ];
  // Whatever else runs (the console, Alertmanager, probes…) is drawn too: every process has a box.
  const drawn = new Set(groups.flatMap((g) => g.nodes).map((n) => n.process));
  const monitoring = groups.at(-1)!;
  for (const x of live?.processes ?? []) if (!drawn.has(x.name)) monitoring.nodes.push(node(x.name, x.tier, `:${x.port}${x.zone ? ` zone ${x.zone}` : ''}`));

  const edges: GraphEdge[] = [];
  const edge = (from: string, to: string, kind: GraphEdge['kind'] = 'traffic') => edges.push({ id: `${from}->${to}`, from, to, kind });
  if (runsDns(d)) edge('dns', 'edge', 'monitor');
  edge('edge', 'lb-front');
  edge('edge', 'lb-api');
  for (const f of fronts) edge('lb-front', f);
  for (const a of apis) {
    edge('lb-api', a);
    edge(a, 'db-writer');
    edge(a, 'db-reader');
    edge(a, cachePrimary);
  }
  edge('db-writer', dbPrimary);
  for (const n of d.dbNodes) if (n.name !== dbPrimary) {
    edge('db-reader', n.name);
    edge(dbPrimary, n.name, 'replication');
  }
  for (const n of d.cacheNodes) if (n.name !== cachePrimary) edge(cachePrimary, n.name, 'replication');
  for (const s of d.sentinelNodes) edge(s.name, cachePrimary, 'monitor');
  edge('prometheus', 'mysqld-exporter', 'monitor');
  edge('prometheus', 'redis-exporter', 'monitor');
  edge('mysqld-exporter', 'db-writer', 'monitor');
  if (d.observability.console) {
    edge('prometheus', 'alertmanager', 'monitor');
    edge('alertmanager', 'console', 'monitor');
    edge('prometheus', 'blackbox-exporter', 'monitor');
    edge('blackbox-exporter', 'edge', 'monitor');
  }

  const region: GraphGroup = {
    id: 'region',
    label: `region "${d.name}" (${d.regions.primary}${d.regions.secondary ? `, DNS failover to ${d.regions.secondary}` : ''})`,
    nodes: [],
    groups: groups.filter((g) => g.nodes.length > 0),
  };
  return { root: region, edges };
}

/** Every node of a graph, depth first. */
export function graphNodes(g: GraphGroup): GraphNode[] {
  return [...g.nodes, ...g.groups.flatMap(graphNodes)];
}
