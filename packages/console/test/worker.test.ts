// The log worker as the console runs it: a forked process with DuckDB, started for a request and ended when
// idle, so DuckDB's memory is not the console's. Real fork, real DuckDB file, real log files.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { statePaths, supervisorLogLine, type RegionPlan } from '@conduit/local';
import { LogQueryError, LogWorkerClient } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'console-worker-'));
const paths = statePaths(root);
mkdirSync(paths.logs, { recursive: true });
mkdirSync(join(root, 'config'), { recursive: true });
writeFileSync(paths.plan, JSON.stringify({ definition: resolve({}), stateDir: root, varnishInTmp: false, configFile: 'stack.config.ts' } satisfies RegionPlan));
const tsx = createRequire(import.meta.url).resolve('tsx');
const client = new LogWorkerClient(join(import.meta.dirname, '../src/logs/worker.ts'), [root], ['--import', tsx]);
afterAll(async () => {
  await client.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the log worker (DuckDB in its own process)', () => {
  it('indexes what logs/ gained, hands back the decisions, and exits at once after an ingest', async () => {
    const now = Date.now();
    appendFileSync(join(paths.logs, 'supervisor.log'), supervisorLogLine('api-2 (api, zone b) killed by SIGKILL: replacing it in 200 ms', new Date(now - 1000)));
    appendFileSync(join(paths.logs, 'api-1.log'), `${JSON.stringify({ level: 30, time: now - 500, reqId: 'req-1', msg: 'request completed', res: { statusCode: 200 } })}\n`);
    const r = await client.ingest();
    expect(r.lines).toBe(2);
    expect(r.decisions.map((x) => x.msg)).toEqual(['api-2 (api, zone b) killed by SIGKILL: replacing it in 200 ms']);
    expect(client.running).toBe(false);
    expect(client.started).toBe(1);
  });

  it('catches up before a search, stays a while for the next one, and ends on close', async () => {
    appendFileSync(join(paths.logs, 'api-1.log'), `${JSON.stringify({ level: 50, time: Date.now(), reqId: 'req-2', msg: 'boom' })}\n`);
    const found = await client.search({ requestId: 'req-2' });
    expect(found.rows.map((x) => x.msg)).toEqual(['boom']);
    expect(client.running).toBe(true);
    // Offsets live in the index: the first line is not indexed twice by this second worker.
    expect((await client.search({ components: ['api'] })).total).toBe(2);
    expect(client.started).toBe(2);
    await expect(client.search({ status: 'five hundred' })).rejects.toBeInstanceOf(LogQueryError);
    expect(await client.prune(30)).toBe(0);
    await client.close();
    expect(client.running).toBe(false);
  });

  it('fails a request clearly when the worker cannot start', async () => {
    const broken = new LogWorkerClient(join(import.meta.dirname, '../src/logs/worker.ts'), [join(root, 'missing')], ['--import', tsx]);
    await expect(broken.ingest()).rejects.toThrow(/log worker exited \(code 1\) while starting/);
    await broken.close();
  });
});
