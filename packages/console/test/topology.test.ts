import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { regionSpecs, statePaths } from '@conduit/local';
import stack from '../../../stack.config.js';
import { graphNodes, layoutTopology, LiveTopology, renderTopology, runJsonChild, topologyGraph, type LiveState, type TopologyLayout } from '../src/index.js';

const repo = join(import.meta.dirname, '../../..');
const d = resolve(stack);
const specs = regionSpecs({
  definition: d,
  paths: statePaths('/tmp/unused-state'),
  version: 'v1',
  secrets: { jwtSecret: 'x'.repeat(32), appUser: 'a', appPassword: 'a', replUser: 'r', replPassword: 'r', exporterUser: 'e', exporterPassword: 'e', adminUser: 'admin', adminPassword: 'ad', redisAdminPassword: 'radm', redisApiUser: 'conduit-api', redisApiPassword: 'rapi', redisReplicaPassword: 'rrep', redisSentinelPassword: 'rsen', redisExporterPassword: 'rexp', sentinelPassword: 'spw' },
});

const liveFrom = (overrides: Record<string, Partial<LiveState['processes'][number]>> = {}, primary = 'db-a'): LiveState => ({
  processes: specs.map((s) => ({ name: s.name, tier: s.tier, zone: s.zone, port: s.port, health: 'healthy', role: null, ...overrides[s.name] })),
  topology: { primary, replicas: d.dbNodes.map((n) => n.name).filter((n) => n !== primary) },
});

describe('topology graph', () => {
  it('has a box for every process the region starts', () => {
    const drawn = new Set(graphNodes(topologyGraph(d).root).map((n) => n.process));
    expect([...new Set(specs.map((s) => s.name))].filter((n) => !drawn.has(n))).toEqual([]);
  });

  it('follows the live state: a dead instance is down, a promoted replica is the writer target, extra processes are drawn', () => {
    const live = liveFrom({ 'api-2': { health: 'down' }, 'db-a': { health: 'down' } }, 'db-b');
    live.processes.push({ name: 'console', tier: 'monitoring', zone: null, port: 9300, health: 'healthy', role: null });
    const g = topologyGraph(d, live);
    const nodes = new Map(graphNodes(g.root).map((n) => [n.id, n]));
    expect(nodes.get('api-2')!.state).toBe('down');
    expect(nodes.get('api-1')!.state).toBe('healthy');
    expect(nodes.get('db-b')!.role).toBe('primary');
    expect(nodes.get('db-a')!.role).toBe('replica');
    expect(nodes.get('console')!.state).toBe('healthy');
    expect(g.edges.map((e) => e.id)).toContain('db-writer->db-b');
    expect(g.edges.map((e) => e.id)).toContain('db-b->db-c');
    expect(g.edges.map((e) => e.id)).not.toContain('db-writer->db-a');
  });

  it('draws the instances that run, not the desired count, when live (the autoscaler moves it)', () => {
    const live = liveFrom();
    live.processes.push({ name: 'api-4', tier: 'api', zone: 'a', port: 8203, health: 'healthy', role: null });
    const ids = graphNodes(topologyGraph(d, live).root).map((n) => n.id);
    expect(ids).toContain('api-4');
    expect(ids).not.toContain('api-5');
  });
});

describe('layout and SVG', () => {
  it('places every box without overlap', async () => {
    const layout = await layoutTopology(topologyGraph(d));
    for (const [i, a] of layout.nodes.entries()) {
      for (const b of layout.nodes.slice(i + 1)) {
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
      }
    }
    expect(layout.edges.every((e) => e.points.length >= 2)).toBe(true);
  });

  it('colours a down process red in the SVG', async () => {
    const svg = await renderTopology(d, liveFrom({ 'api-1': { health: 'down' } }));
    expect(svg).toMatch(/data-process="api-1" data-node="api-1" data-state="down"/);
    expect(svg).toMatch(/data-process="api-2" data-node="api-2" data-state="healthy"/);
  });

  it('docs/topology.svg (embedded in the README) is the drawing of stack.config.ts: run `npx tier diagram` when this fails', async () => {
    const committed = readFileSync(join(repo, 'docs/topology.svg'), 'utf8');
    expect(committed).toBe(await renderTopology(d));
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toContain('](docs/topology.svg)');
  });
});

describe('LiveTopology', () => {
  it('recolours without a new layout while only health changes, and lays out again when a box appears', async () => {
    const live = new LiveTopology(d);
    const healthy = await live.render(liveFrom());
    const down = await live.render(liveFrom({ 'api-1': { health: 'down' } }));
    const pos = (svg: string) => svg.replace(/data-state="\w+"|fill="#\w+"|stroke="#\w+"/g, '');
    expect(pos(down)).toBe(pos(healthy));
    expect(down).toMatch(/data-node="api-1" data-state="down"/);
    expect(down).toBe(await renderTopology(d, liveFrom({ 'api-1': { health: 'down' } })));
    const more = liveFrom();
    more.processes.push({ name: 'api-3', tier: 'api', zone: 'c', port: 8202, health: 'healthy', role: null });
    expect(await live.render(more)).toContain('data-node="api-3"');
  });

  it('lays out in a one-shot child process as the console does (ELK never loads in the console), to the same drawing', async () => {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const entry = join(import.meta.dirname, '../src/topology/layout-child.ts');
    let runs = 0;
    const inChild = new LiveTopology(d, (g) => {
      runs += 1;
      return runJsonChild<TopologyLayout>(entry, g, { execArgv: ['--import', tsx] });
    });
    const [a, b] = await Promise.all([inChild.render(liveFrom()), inChild.render(liveFrom({ 'api-1': { health: 'down' } }))]);
    expect(runs).toBe(1); // concurrent redraws share one layout run
    expect(a).toBe(await renderTopology(d, liveFrom()));
    expect(b).toMatch(/data-node="api-1" data-state="down"/);
    await expect(runJsonChild(join(import.meta.dirname, 'no-such-entry.mjs'), {})).rejects.toThrow(/no-such-entry\.mjs: Command failed/);
  }, 30_000);
});
