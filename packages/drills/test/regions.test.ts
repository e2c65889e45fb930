// Two regions on one machine (test/fixtures/two-regions.config.ts: ports 30000-30999 on 127.0.0.1 and
// 127.0.2.1, state in .test-state/regions): both come up with one `tier up`, the standby replicates from
// the primary region's writer, answers reads and refuses writes with 503 + Retry-After (a client with a
// stale DNS answer), a planned switchover there and back loses nothing, and the short region-loss drill passes: every process of the primary SIGKILLed under
// traffic that finds the site through the DNS name, the standby promoted, the service back through DNS.
import { tierFor } from './tier-cli.js';
import { once } from 'node:events';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regionDefinition, resolve } from '@conduit/definition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { dbSocket, dnsAnswer, dnsServers, readTopology, regionsStatus, regionSwitchover, runSql, statePaths, tableSums, waitUntil } from '@conduit/local';
import {
  failbackShortTiming, followDns, formatFailback, formatRegionLoss, formatReport, formatSwitchover, regionHandle, regionLossShortTiming, runRegionFailback, runRegionLoss,
  runRegionSwitchover, startProcess, stopProcessGracefully, switchoverShortTiming, writeReport,
} from '../src/index.js';
import fixture from './fixtures/two-regions.config.js';

const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, 'fixtures', 'two-regions.config.ts');
const definition = resolve(fixture);
const secondary = regionDefinition(definition, 'secondary');
const stateDir = resolvePath(dirname(configFile), definition.local.stateDir);
const edge = (address: string) => `http://${address}:${definition.local.ports.edge}`;

const runTier = tierFor(configFile);

async function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(new URL(path, base), { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

let upOutput = '';
beforeAll(async () => {
  await runTier('destroy');
  // Bad input first: the global DNS server's port taken stops `tier up` with one line naming it.
  const squatter = createServer().listen(definition.local.ports.dns, '127.0.0.1');
  await once(squatter, 'listening');
  const refused = await runTier('up').then(() => '', (e: Error) => e.message);
  squatter.close();
  expect(refused).toContain(`port ${definition.local.ports.dns} for the global DNS server (PowerDNS) is already in use by another program on 127.0.0.1: stop it, or move local.ports.dns in ${configFile}`);
  upOutput = await runTier('up');
}, 300_000);

afterAll(async () => {
  await runTier('destroy');
}, 120_000);

describe('two regions', () => {
  it('come up with one command; the standby replicates; status labels the regions and shows lag, GTID distance and DNS', async () => {
    expect(upOutput).toContain(`region eu-central-1 (standby) on 127.0.2.1`);
    expect(upOutput).toMatch(/cross-region: eu-central-1 replicates from eu-west-1 \(asynchronous\), running/);
    const s = await waitUntil('DNS answering the primary region', async () => {
      const x = await regionsStatus(definition, stateDir);
      return x.dns?.region === 'eu-west-1' ? x : null;
    }, 15_000, 200);
    expect(s.regions.map((r) => [r.region, r.address, r.role?.role, r.healthy])).toEqual([['eu-west-1', '127.0.0.1', 'primary', true], ['eu-central-1', '127.0.2.1', 'standby', true]]);
    expect(s.regions[1]!.processes.every((p) => p.region === 'eu-central-1')).toBe(true);
    expect(s.crossRegion).toMatchObject({ writerRegion: 'eu-west-1', standbyRegion: 'eu-central-1', replicating: true });
    expect(s.crossRegion!.gtidDistance).toBeGreaterThanOrEqual(0);
    expect(s.dns).toMatchObject({
      name: 'www.conduit-2r.test', addresses: ['127.0.0.1'], ttl: 1, dig: 'dig @127.0.0.1 -p 30053 www.conduit-2r.test',
      servers: ['127.0.0.1:30053', '127.0.2.1:30053'], silent: [],
    });
  });

  it('one DNS server per region: the name resolves while either one is down, for status and for a client\'s resolver', async () => {
    const regions = [regionHandle(definition, stateDir), regionHandle(secondary, statePaths(stateDir).secondaryRoot)];
    for (const r of regions) {
      await stopProcessGracefully(r, 'dns');
      try {
        const a = await dnsAnswer(definition, 500);
        expect(a, JSON.stringify(a)).toMatchObject({ addresses: ['127.0.0.1'], region: 'eu-west-1', silent: [`${r.definition.address}:30053`] });
        // A resolver given both servers asks the next when the first does not answer.
        const client = await followDns(dnsServers(definition), definition.dnsName, definition.local.ports.edge);
        client.stop();
        expect(client.url()).toBe(`${edge('127.0.0.1')}/`);
      } finally {
        await startProcess(r, 'dns');
      }
      // Started again, it has not checked the regions yet (PowerDNS would answer either at random): it answers
      // SERVFAIL until its checks have run, then the writer region; never the standby's address.
      const server = `${r.definition.address}:30053`;
      const resolver = new Resolver({ timeout: 500, tries: 1 });
      resolver.setServers([server]);
      const seen: string[] = [];
      for (const t0 = Date.now(); Date.now() - t0 < 5_000; await new Promise((res) => setTimeout(res, 100))) {
        seen.push(await resolver.resolve4(definition.dnsName).then((a) => a.join(','), (e: NodeJS.ErrnoException) => e.code ?? 'error'));
      }
      // (The supervisor's start returns before the server listens: the first questions may be refused.)
      const answers = seen.slice(seen.findIndex((x) => x !== 'ECONNREFUSED'));
      expect(answers[0], seen.join(' ')).toBe('ESERVFAIL');
      expect(answers.at(-1), seen.join(' ')).toBe('127.0.0.1');
      expect(answers.filter((x) => x !== 'ESERVFAIL' && x !== '127.0.0.1'), seen.join(' ')).toEqual([]);
    }
    expect((await dnsAnswer(definition, 500)).silent).toEqual([]);
  });

  it('the standby serves reads of what the primary wrote and refuses writes with 503 + Retry-After', async () => {
    const user = `r${Date.now().toString(36)}`;
    const reg = await call(edge(definition.address), 'POST', '/api/users', { user: { username: user, email: `${user}@x.invalid`, password: 'pw-secret-123' } });
    expect(reg.status, reg.text).toBe(201);
    await waitUntil('the profile readable in the standby region', async () => (await call(edge(secondary.address), 'GET', `/api/profiles/${user}`)).status === 200, 10_000, 100);
    const write = await call(edge(secondary.address), 'POST', '/api/users', { user: { username: `${user}b`, email: `${user}b@x.invalid`, password: 'pw-secret-123' } });
    expect(write.status, write.text).toBe(503);
    expect(write.headers['retry-after']).toBe('1');
    expect(JSON.parse(write.text)).toEqual({ errors: { database: ['is unavailable, retry shortly'] } });
    expect((await call(edge(secondary.address), 'GET', definition.regions.dns.healthPath)).status).toBe(503);
    expect((await call(edge(definition.address), 'GET', definition.regions.dns.healthPath)).status).toBe(200);
  });

  it('switchover there and back: writes pause briefly, nothing is lost, the old writer follows the new one', async () => {
    const register = async (base: string, name: string) => {
      // Writes pause during a switchover (503 + Retry-After): retry as a client does.
      for (let i = 0; ; i++) {
        const r = await call(base, 'POST', '/api/users', { user: { username: name, email: `${name}@x.invalid`, password: 'pw-secret-123' } });
        if (r.status !== 503 || i > 50) return r.status;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const there = await regionSwitchover(definition, stateDir);
    console.log(`switchover there: pause ${there.writePauseMs} ms, caught up in ${there.caughtUpMs} ms`);
    expect(there).toMatchObject({ from: 'eu-west-1', to: 'eu-central-1' });
    expect(there.writePauseMs).toBeLessThan(5_000);
    const user = `s${Date.now().toString(36)}`;
    expect(await register(edge(secondary.address), user)).toBe(201);
    await waitUntil('the new writer\'s write replicated to the old one', async () => (await call(edge(definition.address), 'GET', `/api/profiles/${user}`)).status === 200, 10_000, 100);
    const mid = await regionsStatus(definition, stateDir);
    expect(mid.crossRegion).toMatchObject({ writerRegion: 'eu-central-1', standbyRegion: 'eu-west-1', replicating: true });
    // A standby by a switchover, not fenced: it replicates, so its region failover controller may promote it again.
    expect(mid.regions[0]!.role).toMatchObject({ role: 'standby', why: 'planned switchover to eu-central-1' });
    const back = await regionSwitchover(definition, stateDir);
    console.log(`switchover back: pause ${back.writePauseMs} ms, caught up in ${back.caughtUpMs} ms`);
    expect(back).toMatchObject({ from: 'eu-central-1', to: 'eu-west-1' });
    expect(back.writePauseMs).toBeLessThan(5_000);
    expect(await register(edge(definition.address), `${user}x`)).toBe(201);
    // Checked at the database, not through the standby's edge: its caches are its own, and an anonymous 404 read
    // there before the row arrived is not purged by a write made in the other region.
    await waitUntil('the standby replicating back and caught up', async () => {
      const x = (await regionsStatus(definition, stateDir)).crossRegion;
      return x?.standbyRegion === 'eu-central-1' && x.replicating && x.gtidDistance === 0;
    }, 10_000, 200);
  }, 60_000);

  it('region-loss (short): service back through DNS within 15 s, lost writes only inside the RPO window', async () => {
    const report = await runRegionLoss(definition, stateDir, { timing: regionLossShortTiming, log: (l) => console.log(l) });
    writeReport(stateDir, report);
    console.log(`${formatReport(report)}\n${formatRegionLoss(report.regions).join('\n')}`);
    expect(report.criteria.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    const s = await regionsStatus(definition, stateDir);
    // Promoted twice: by the switchover there, and by this failover.
    expect(s.regions[1]!.role).toMatchObject({ role: 'primary', cacheGeneration: 3 });
    expect(s.dns?.region).toBe('eu-central-1');
  }, 180_000);

  it('region-failback (short): the lost region returns with `tier up`, rejoins as the standby, both regions\' tables have the same checksums', async () => {
    const fenced = (await regionsStatus(definition, stateDir)).regions[0]!.role!;
    expect(fenced).toMatchObject({ role: 'standby', why: 'fenced by the region failover of eu-central-1' });
    const report = await runRegionFailback(definition, stateDir, { configFile, timing: failbackShortTiming, log: (l) => console.log(l) });
    writeReport(stateDir, report);
    console.log(`${formatReport(report)}\n${formatFailback(report.failback).join('\n')}`);
    expect(report.criteria.filter((c) => !c.pass)).toEqual([]);
    expect(report.failback).toMatchObject({ returned: 'eu-west-1', writer: 'eu-central-1', how: 'up' });
    const s = await regionsStatus(definition, stateDir);
    expect(s.regions.map((r) => r.role?.role)).toEqual(['standby', 'primary']);
    // Its caches start a new generation when it rejoins.
    expect(s.regions[0]!.role).toMatchObject({ cacheGeneration: fenced.cacheGeneration + 1, upstream: { host: '127.0.2.1', port: definition.local.ports.dbWriter } });
    expect(s.dns?.region).toBe('eu-central-1');
    if (report.failback.errantTransactions > 0) expect(await runTier('status')).toContain('undone transactions kept for review');
  }, 180_000);

  it('the old writer holds writes the other region never received: `tier region rejoin` saves them to errant/, undoes them, and the tables match', async () => {
    // eu-central-1 writes while eu-west-1 receives nothing; then eu-west-1 is promoted: those writes exist only in eu-central-1.
    const westPaths = statePaths(stateDir);
    const centralPaths = statePaths(join(stateDir, 'secondary'));
    const westPrimary = readTopology(westPaths)!.primary;
    await runSql(dbSocket(westPaths, { name: westPrimary }), westPrimary, ['STOP SLAVE']);
    const user = `e${Date.now().toString(36)}`;
    const reg = await call(edge(secondary.address), 'POST', '/api/users', { user: { username: user, email: `${user}@x.invalid`, password: 'pw-secret-123' } });
    expect(reg.status, reg.text).toBe(201);
    expect(await runTier('region', 'failover')).toContain('promoted eu-west-1 to the writer region');
    const out = await runTier('region', 'rejoin');
    console.log(out);
    const saved = /(\d+) errant transaction\(s\) saved \((\S+)\)/.exec(out);
    expect(saved, out).not.toBeNull();
    expect(Number(saved![1])).toBeGreaterThanOrEqual(1);
    expect(readFileSync(saved![2]!, 'utf8')).toContain(user);
    expect(await runTier('status')).toMatch(/undone transactions kept for review: \d+ file\(s\)/);
    await waitUntil('eu-central-1 replicating from eu-west-1 and caught up', async () => {
      const x = (await regionsStatus(definition, stateDir)).crossRegion;
      return x?.writerRegion === 'eu-west-1' && x.replicating && x.gtidDistance === 0;
    }, 15_000, 200);
    const sums = async (p: typeof westPaths) => tableSums(dbSocket(p, { name: readTopology(p)!.primary }), definition.database.databaseName);
    const [w, c] = await Promise.all([sums(westPaths), sums(centralPaths)]);
    expect(c).toEqual(w);
    expect((await call(edge(secondary.address), 'GET', `/api/profiles/${user}`)).status).toBe(404);
  }, 120_000);

  it('region-switchover (short): under traffic, nothing acknowledged is lost and writes pause at most 5 s', async () => {
    const report = await runRegionSwitchover(definition, stateDir, { timing: switchoverShortTiming, log: (l) => console.log(l) });
    writeReport(stateDir, report);
    console.log(`${formatReport(report)}\n${formatSwitchover(report.switchover).join('\n')}`);
    expect(report.criteria.filter((c) => !c.pass)).toEqual([]);
    expect(report.switchover).toMatchObject({ from: 'eu-west-1', to: 'eu-central-1' });
    expect(report.writes.lostCount).toBe(0);
  }, 120_000);
});
