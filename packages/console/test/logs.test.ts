import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { EDGE_ACCESS_FORMAT, supervisorLogLine } from '@conduit/local';
import { componentOf, LogIndex, LogQueryError, LogTailer, parseLine } from '../src/index.js';

const d = resolve({});
const local = (s: string) => new Date(s).getTime(); // no zone: local time, as the components write it
const readAt = Date.UTC(2026, 10, 29, 16, 0, 0);

describe('parseLine', () => {
  it('reads pino lines from the API by their standard fields only', () => {
    const completed = parseLine('api', 'api-1', JSON.stringify({ level: 30, time: Date.UTC(2026, 10, 29, 15, 1, 2, 345), pid: 1, reqId: 'req-7', res: { statusCode: 503 }, responseTime: 3.2, msg: 'request completed' }), readAt);
    expect(completed).toEqual({ ts: Date.UTC(2026, 10, 29, 15, 1, 2, 345), component: 'api', instance: 'api-1', level: 'error', status: 503, route: null, requestId: 'req-7', msg: 'request completed' });
    const incoming = parseLine('api', 'api-1', '{"level":"info","time":"2026-11-29T15:01:02.300Z","reqId":"req-7","req":{"method":"GET","url":"/api/articles?limit=10"},"msg":"incoming request"}', readAt);
    expect(incoming).toMatchObject({ ts: Date.UTC(2026, 10, 29, 15, 1, 2, 300), level: 'info', route: 'GET /api/articles', requestId: 'req-7' });
    // The edge's access log (varnishncsa -j with EDGE_ACCESS_FORMAT of @conduit/local).
    const edgeLine = EDGE_ACCESS_FORMAT.replace('%{msec}t', String(Date.UTC(2026, 10, 29, 15, 1, 2, 250))).replace('%m', 'GET').replace('%U%q', '/api/articles?tag=x')
      .replace('%s', '502').replace('%b', '-').replace('%D', '1500').replace('%{Varnish:handling}x', 'pass').replace('%{X-Request-Id}o', 'edge-1-32770').replace('%h', '127.0.0.1');
    expect(parseLine(componentOf('edge-access', d), 'edge-access', edgeLine, readAt)).toEqual({
      ts: Date.UTC(2026, 10, 29, 15, 1, 2, 250), component: 'varnish', instance: 'edge-access', level: 'error', status: 502,
      route: 'GET /api/articles', requestId: 'edge-1-32770', msg: 'GET /api/articles?tag=x 502 pass 1.5 ms',
    });
    expect(parseLine('varnish', 'edge-access', edgeLine.replace('edge-1-32770', '-').replace('502', '200'), readAt)).toMatchObject({ level: 'info', requestId: null });
    const err = parseLine('api', 'api-2', '{"level":50,"time":1,"err":{"message":"connect ECONNREFUSED"},"msg":"db down"}', readAt);
    expect(err).toMatchObject({ level: 'error', msg: 'db down: connect ECONNREFUSED' });
  });

  it('reads HAProxy httplog lines with the captured request id, and its event lines', () => {
    const line = '127.0.0.1:40112 [29/Nov/2026:15:01:02.123] fe_api be_api/api-2 0/0/0/4/4 404 310 - - ---- 2/1/0/0/0 0/0 {req-7} "GET /api/articles/nope?x=1 HTTP/1.1"';
    expect(parseLine('haproxy', 'lb', line, readAt)).toMatchObject({ ts: local('2026-11-29T15:01:02.123'), status: 404, level: 'warn', route: 'GET /api/articles/nope', requestId: 'req-7' });
    const aborted = '127.0.0.1:40113 [29/Nov/2026:15:01:03.000] fe_api be_api/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 {} "POST /api/users HTTP/1.1"';
    expect(parseLine('haproxy', 'lb', aborted, readAt)).toMatchObject({ status: 503, level: 'error', requestId: null });
    expect(parseLine('haproxy', 'lb', '[WARNING]  (8357) : Server be_api/api-1 is DOWN, reason: Layer4 connection problem', readAt))
      .toMatchObject({ ts: readAt, level: 'warn', msg: 'Server be_api/api-1 is DOWN, reason: Layer4 connection problem' });
    expect(parseLine('haproxy', 'lb', "[ALERT]    (8357) : backend 'be_db_writer' has no server available!", readAt).level).toBe('error');
  });

  it('reads MariaDB, nginx, Redis/Sentinel, supervisor, logfmt and controller journal lines', () => {
    expect(parseLine('mariadb', 'db-a', '2026-11-29 15:29:29 0 [ERROR] Slave I/O: error connecting to master', readAt))
      .toMatchObject({ ts: local('2026-11-29T15:29:29'), level: 'error', msg: 'Slave I/O: error connecting to master' });
    expect(parseLine('nginx', 'front-1', '2026/11/29 15:29:29 [warn] 123#123: *1 an upstream response is buffered', readAt))
      .toMatchObject({ ts: local('2026-11-29T15:29:29'), level: 'warn' });
    expect(parseLine('sentinel', 'sentinel-1', '8308:X 29 Nov 2026 15:29:29.123 # +switch-master conduit-cache 127.0.0.1 16379 127.0.0.1 16380', readAt))
      .toMatchObject({ ts: local('2026-11-29T15:29:29.123'), level: 'warn', msg: '+switch-master conduit-cache 127.0.0.1 16379 127.0.0.1 16380' });
    expect(parseLine('supervisor', 'supervisor', '2026-11-29T15:29:29.500Z api-1 (api, zone a) killed by SIGKILL: replacing it in 200 ms', readAt))
      .toMatchObject({ ts: Date.UTC(2026, 10, 29, 15, 29, 29, 500), level: 'warn' });
    // What the supervisor writes now: JSON lines from @conduit/local's formatter.
    const json = supervisorLogLine('api-2 failed 5 liveness probes in a row: killing it to replace it', new Date(Date.UTC(2026, 10, 29, 15, 29, 30))).trimEnd();
    expect(parseLine('supervisor', 'supervisor', json, readAt))
      .toEqual({ ts: Date.UTC(2026, 10, 29, 15, 29, 30), component: 'supervisor', instance: 'supervisor', level: 'error', status: null, route: null, requestId: null, msg: 'api-2 failed 5 liveness probes in a row: killing it to replace it' });
    expect(parseLine('prometheus', 'prometheus', 'ts=2026-11-29T15:29:29.100Z caller=main.go:1 level=error msg="Error loading config \\"x\\""', readAt))
      .toMatchObject({ ts: Date.UTC(2026, 10, 29, 15, 29, 29, 100), level: 'error', msg: 'Error loading config "x"' });
    expect(parseLine('controller', 'db-failover', '{"at":"2026-11-29T15:29:32.884Z","kind":"failover","sentence":"promoted db-b"}', readAt))
      .toMatchObject({ ts: Date.UTC(2026, 10, 29, 15, 29, 32, 884), level: 'warn', msg: 'promoted db-b' });
    expect(parseLine('varnish', 'edge', 'Child (123) Started', readAt)).toMatchObject({ ts: readAt, level: 'info', msg: 'Child (123) Started' });
  });

  it('names the component of every process from its log file name', () => {
    expect(['api-3', 'lb', 'edge', 'front-2', 'db-c', 'redis-2', 'sentinel-3', 'supervisor', 'db-failover', 'prometheus', 'mysqld-exporter'].map((n) => componentOf(n, d)))
      .toEqual(['api', 'haproxy', 'varnish', 'nginx', 'mariadb', 'redis', 'sentinel', 'supervisor', 'controller', 'prometheus', 'exporter']);
  });
});

describe('LogIndex and LogTailer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const logs = join(dir, 'logs');
  const base = Date.UTC(2026, 10, 29, 15, 0, 0);
  const api = (i: number, reqId: string, status: number, url: string) =>
    JSON.stringify({ level: status >= 500 ? 50 : 30, time: base + i * 1000, reqId, req: { method: 'GET', url }, res: { statusCode: status }, msg: 'request completed' }) + '\n';

  it('indexes new lines only, follows a replaced file, keeps positions across a reopen, and searches every field', async () => {
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'api-1.log'), api(1, 'r-1', 200, '/api/tags') + api(2, 'r-2', 500, '/api/articles?offset=0'));
    writeFileSync(join(logs, 'db-failover.jsonl'), `{"at":"${new Date(base + 3000).toISOString()}","kind":"failover","sentence":"promoted db-b: primary db-a unreachable"}\n{"partial":`);
    const file = join(dir, 'index.duckdb');
    let index = await LogIndex.open(file);
    let tailer = new LogTailer(index, logs, (n) => componentOf(n, d));
    expect(await tailer.drain()).toBe(3);
    expect(await tailer.drain()).toBe(0);

    appendFileSync(join(logs, 'db-failover.jsonl'), '"x"}\n');
    appendFileSync(join(logs, 'api-1.log'), api(4, 'r-4', 404, '/api/articles/missing'));
    index.close();
    index = await LogIndex.open(file);
    tailer = new LogTailer(index, logs, (n) => componentOf(n, d));
    expect(await tailer.drain()).toBe(2); // the completed partial line and the new API line, nothing twice
    expect(await index.count()).toBe(5);

    // Rotation: a new file under the same name is read from its start.
    renameSync(join(logs, 'api-1.log'), join(dir, 'api-1.log.1'));
    writeFileSync(join(logs, 'api-1.log'), api(5, 'r-5', 200, '/api/tags'));
    expect(await tailer.drain()).toBe(1);

    const window = { from: base, to: base + 60_000 };
    const all = await index.search(window);
    expect(await index.count()).toBe(6);
    expect(all.total).toBe(5); // the completed partial line has no time of its own: stamped when read (now)
    expect(all.rows.map((r) => r.ts)).toEqual([...all.rows.map((r) => r.ts)].sort((a, b) => b - a)); // newest first
    expect((await index.search({ ...window, requestId: 'r-2' })).rows.map((r) => r.status)).toEqual([500]);
    expect((await index.search({ ...window, status: '5xx' })).total).toBe(1);
    expect((await index.search({ ...window, status: '404' })).rows[0]!.route).toBe('GET /api/articles/missing');
    expect((await index.search({ ...window, route: 'articles' })).total).toBe(2);
    expect((await index.search({ ...window, minLevel: 'warn' })).total).toBe(3); // the 500, the 404 and the failover
    expect((await index.search({ ...window, components: ['controller'] })).rows[0]!.msg).toContain('promoted db-b');
    expect((await index.search({ ...window, instance: 'api-1', text: 'REQUEST comp' })).total).toBe(4);
    expect((await index.search({ ...window, text: '100%_' })).total).toBe(0); // LIKE wildcards are literal
    expect((await index.search({ from: base + 3000, to: base + 5000 })).total).toBe(2);

    const h = await index.search({ ...window, buckets: 6 });
    expect(h.bucketMs).toBe(10_000);
    expect(h.histogram.map((b) => b.count)).toEqual([5, 0, 0, 0, 0, 0]);
    expect(h.histogram[0]!.errors).toBe(1);

    await expect(index.search({ ...window, status: 'bad' })).rejects.toThrow(LogQueryError);
    await expect(index.search({ from: base, to: base })).rejects.toThrow(/must be before/);

    // Retention: lines older than logRetentionDays go.
    expect(await index.prune(1, base + 86_400_000 + 4_500)).toBe(4);
    expect(await index.count()).toBe(2);
    index.close();
  });
});

describe('rotation (observability.logFileMaxMb)', () => {
  it('copies a file indexed to its end to <name>.1 and truncates it once it reaches the size, losing no line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-rotate-'));
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const file = join(logs, 'supervisor.log');
    const line = (i: number) => `2026-11-29T15:00:${String(i).padStart(2, '0')}.000Z line ${i}\n`;
    writeFileSync(file, [0, 1, 2, 3, 4].map(line).join(''));
    const index = await LogIndex.open(':memory:');
    const tailer = new LogTailer(index, logs, (n) => componentOf(n, d), 100);
    expect(await tailer.drain()).toBe(5);
    expect(statSync(file).size).toBe(0);
    expect(readFileSync(`${file}.1`, 'utf8')).toBe([0, 1, 2, 3, 4].map(line).join(''));
    appendFileSync(file, line(5)); // the writer keeps appending (O_APPEND): its line lands at the new start
    expect(await tailer.drain()).toBe(1);
    expect(statSync(file).size).toBe(line(5).length); // under the size: not rotated
    expect((await index.search({ from: Date.UTC(2026, 10, 29, 15), to: Date.UTC(2026, 10, 29, 16) })).total).toBe(6);
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
