import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import type { RegionStatus } from '@conduit/local';
import { AlertStore, buildConsole, LogIndex, ProcessMetrics, processTree } from '../src/index.js';

const d = resolve({});
const dir = mkdtempSync(join(tmpdir(), 'console-app-'));
const journal = join(dir, 'alerts.jsonl');
let index: LogIndex;
let app: ReturnType<typeof buildConsole>;
const metrics = new ProcessMetrics();
const now = Date.now();
const status = {
  name: 'conduit', stateDir: dir, running: true, supervisor: { pid: 1, running: true }, healthy: false, endpoints: {} as RegionStatus['endpoints'],
  topology: { primary: 'db-b', replicas: ['db-a', 'db-c'], updatedAt: '' },
  processes: [
    { name: 'api-1', tier: 'api', zone: 'a', pid: 10, port: 8200, health: 'down', state: 'restarting', restarts: 1, role: null, detail: null, logFile: '', version: 'v1' },
    { name: 'db-b', tier: 'db', zone: 'b', pid: 11, port: 13311, health: 'healthy', state: 'running', restarts: 0, role: 'primary', detail: null, logFile: '', version: null },
  ],
  tiers: {},
  watchdog: null,
  openActions: [],
  errantFiles: [],
  redundancy: { full: false, since: new Date(now - 8000).toISOString(), shortfall: '1 of 2 replicas replicating from db-b (db-a: unreachable)' },
  release: 'v1',
  backupVerify: null,
} satisfies RegionStatus;

beforeAll(async () => {
  index = await LogIndex.open(':memory:');
  await index.append([
    { ts: now - 5000, component: 'haproxy', instance: 'lb', level: 'info', status: 200, route: 'GET /api/tags', requestId: 'abc', msg: 'lb line' },
    { ts: now - 4000, component: 'api', instance: 'api-1', level: 'info', status: 200, route: null, requestId: 'abc', msg: 'request completed' },
    { ts: now - 3000, component: 'api', instance: 'api-2', level: 'error', status: 500, route: null, requestId: 'other', msg: 'boom' },
    { ts: now - 2500, component: 'supervisor', instance: 'supervisor', level: 'info', status: null, route: null, requestId: null, msg: 'autoscaler: scaled api out to 3: 900 rps over 2 instances' },
    { ts: now - 2000, component: 'supervisor', instance: 'supervisor', level: 'info', status: null, route: null, requestId: null, msg: 'controller autoscaler loaded' },
    { ts: now - 1500, component: 'controller', instance: 'db-failover', level: 'warn', status: null, route: null, requestId: null, msg: 'promoted db-b: primary db-a unreachable' },
  ]);
  app = buildConsole({ definition: d, index, alerts: new AlertStore(journal), status: () => status, metrics: () => metrics.render(), prometheusUrl: 'http://127.0.0.1:1' });
});
afterAll(() => {
  index.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('console app', () => {
  it('serves the page and every asset it uses from itself', async () => {
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref.startsWith('/'), `${ref} is local`).toBe(true);
      expect((await app.inject(ref)).statusCode, ref).toBe(200);
    }
  });

  it('draws the live topology from the sampled status', async () => {
    const r = await app.inject('/api/topology.svg');
    expect(r.headers['content-type']).toContain('image/svg+xml');
    expect(r.body).toMatch(/data-process="api-1" data-node="api-1" data-state="down"/);
    expect(r.body).toMatch(/data-node="db-b" data-state="healthy" data-role="primary"/);
  });

  it('searches logs by request id, and refuses a bad query with a clear 400', async () => {
    const r = await app.inject(`/api/logs?requestId=abc&from=${now - 60_000}&to=${now}`);
    expect(r.statusCode).toBe(200);
    expect(r.json().rows.map((x: { instance: string }) => x.instance)).toEqual(['api-1', 'lb']);
    const errors = await app.inject(`/api/logs?level=loud&from=${now - 60_000}`);
    expect(errors.statusCode).toBe(400);
    expect(Object.keys(errors.json().errors)).toEqual(['level']);
    expect((await app.inject('/api/logs?status=5x5')).json()).toEqual({ errors: { query: ['status "5x5" is not a status code or class: write 502 or 5xx'] } });
    expect((await app.inject('/api/logs?colour=red')).statusCode).toBe(400);
    expect((await app.inject(`/api/logs?component=api&level=error&from=${now - 60_000}`)).json().rows.map((x: { msg: string }) => x.msg)).toEqual(['boom']);
  });

  it('lists the controllers\' decisions, newest first, without their routine lines', async () => {
    const r = await app.inject('/api/decisions?range=600');
    expect(r.json().map((x: { msg: string }) => x.msg)).toEqual(['promoted db-b: primary db-a unreachable', 'autoscaler: scaled api out to 3: 900 rps over 2 instances']);
    expect((await app.inject('/api/decisions?range=1')).statusCode).toBe(400);
  });

  it('lists the panels of the definition and answers for each: an unreachable Prometheus is an error message, not a 500', async () => {
    const panels = (await app.inject('/api/panels')).json() as Array<{ id: string; threshold: { value: number } | null }>;
    expect(panels.find((p) => p.id === 'api-latency')!.threshold!.value).toBe(d.observability.alarms.p99LatencyMs);
    const rps = await app.inject('/api/panels/api-requests?range=900');
    expect(rps.statusCode).toBe(200);
    expect(rps.json().error).toMatch(/^Prometheus: /);
    expect((await app.inject('/api/panels/db-replica-lag')).json().error).toMatch(/^Prometheus: /);
    expect((await app.inject('/api/panels/nope')).statusCode).toBe(404);
    expect((await app.inject('/api/panels/api-rss?range=5')).statusCode).toBe(400);
  });

  it('exports CPU and memory per process (with its children) and replica lag for Prometheus', async () => {
    // This test process stands in for a region process: real /proc figures, a child of its own.
    const child = spawn('sleep', ['30']);
    const me = { name: 'api-1', tier: 'api', zone: 'a', pid: process.pid };
    metrics.sample([me, { name: 'api-2', tier: 'api', zone: 'b', pid: null }], { 'db-a': 0, 'db-c': 2 }, 1_000);
    let t = Date.now();
    while (Date.now() - t < 200) Math.sqrt(t); // burn some CPU between the samples
    metrics.sample([me], { 'db-a': 0, 'db-c': 2 }, 1_300);
    const text = (await app.inject('/metrics')).body;
    child.kill();
    const value = (name: string) => Number(new RegExp(`^${name}\\{process="api-1",tier="api",zone="a"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('conduit_process_resident_memory_bytes')).toBeGreaterThan(20e6);
    expect(value('conduit_process_cpu_percent')).toBeGreaterThan(10);
    expect(text).toContain('conduit_db_replica_lag_seconds{node="db-c"} 2');
    expect(text).not.toContain('api-2');
    expect(processTree(process.pid)).toContain(child.pid);
  });

  it('exports the last backup verify for the backup-verify alarm: ok 1/0 and its age; nothing before any backup', async () => {
    metrics.sample([], {}, 2_000, { last: { ok: false, backup: '2026-11-29T20-00-00-000Z' }, ageSeconds: 12.5 });
    let text = (await app.inject('/metrics')).body;
    expect(text).toContain('conduit_backup_verify_ok{backup="2026-11-29T20-00-00-000Z"} 0');
    expect(text).toContain('conduit_backup_verify_age_seconds{backup="2026-11-29T20-00-00-000Z"} 12.5');
    metrics.sample([], {}, 2_100, { last: null, ageSeconds: 30 });
    text = (await app.inject('/metrics')).body;
    expect(text).not.toMatch(/^conduit_backup_verify_ok/m);
    expect(text).toContain('conduit_backup_verify_age_seconds{backup="none"} 30');
    metrics.sample([], {}, 2_200, null);
    expect((await app.inject('/metrics')).body).not.toMatch(/^conduit_backup_verify/m);
  });

  it('takes Alertmanager webhooks: firing then resolved on one timeline, journaled, and rejects a malformed body', async () => {
    const alert = (status: 'firing' | 'resolved') => ({
      version: '4', status, receiver: 'console', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: '', groupKey: 'k',
      alerts: [{ status, labels: { alertname: 'InstanceDown', severity: 'page', instance: '127.0.0.1:8200' }, annotations: { summary: 'api-1 down' }, startsAt: new Date(now).toISOString(), endsAt: '0001-01-01T00:00:00Z', fingerprint: 'f1' }],
    });
    expect((await app.inject({ method: 'POST', url: '/api/alerts', payload: alert('firing') })).statusCode).toBe(204);
    expect((await app.inject({ method: 'POST', url: '/api/alerts', payload: alert('firing') })).statusCode).toBe(204);
    let list = (await app.inject('/api/alerts')).json();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'InstanceDown', status: 'firing', severity: 'page', summary: 'api-1 down' });
    await app.inject({ method: 'POST', url: '/api/alerts', payload: alert('resolved') });
    list = (await app.inject('/api/alerts')).json();
    expect(list[0].timeline.map((t: { status: string }) => t.status)).toEqual(['firing', 'resolved']);
    // A restarted console rebuilds the list from the journal (which the log index also reads).
    expect(new AlertStore(journal).list()[0]!.timeline.map((t) => t.status)).toEqual(['firing', 'resolved']);
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(3);
    const bad = await app.inject({ method: 'POST', url: '/api/alerts', payload: { version: '4', status: 'on fire', alerts: [] } });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors)).toEqual(['status']);
    const notJson = await app.inject({ method: 'POST', url: '/api/alerts', payload: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
  });
});
