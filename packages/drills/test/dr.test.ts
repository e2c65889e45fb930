// The short disaster drill on a small region of its own (31700-31999): traffic through the edge, the whole
// region lost (every process SIGKILLed, its state folder wiped), recovered from the buckets by the same code
// `tier drill dr` runs; then the RTO split and the RPO by ledger id.
import { existsSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { backupPaths, isAlive, readRegion, repoRoot } from '@conduit/local';
import { formatDrReport, formatDropTableReport, runDisasterDrill, runDropTableDrill } from '../src/index.js';
import fixture from './fixtures/dr.config.ts';

const config = join(repoRoot, 'packages/drills/test/fixtures/dr.config.ts');
const d = resolve(fixture);
const stateDir = join(repoRoot, '.test-state/dr');
const tier = (...args: string[]) => execFileSync(process.execPath, [join(repoRoot, 'packages/cli/bin/tier.mjs'), ...args, '--config', config], { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });

beforeAll(() => {
  tier('destroy');
  rmSync(backupPaths(d, config).root, { recursive: true, force: true });
  tier('up');
}, 240_000);

afterAll(() => {
  const pids = readRegion(stateDir).processes.map((p) => p.pid).filter((p): p is number => p !== null);
  tier('destroy');
  expect(pids.filter(isAlive)).toEqual([]);
  rmSync(backupPaths(d, config).root, { recursive: true, force: true });
}, 180_000);

it('drill drop-table: a table dropped at T is back, same rows and checksum, in a new instance restored to T − 1 s', async () => {
  const r = await runDropTableDrill({ definition: d, stateDir, configFile: config, rows: 2_000 });
  const text = formatDropTableReport(r);
  expect(r.pass, text).toBe(true);
  expect(r.goneFromLive).toBe(true);
  expect(r.before.rows).toBe(2_000);
  expect(r.restored).toEqual(r.before);
  expect(Date.parse(r.droppedAt) - Date.parse(r.target)).toBe(1_000);
}, 120_000);

it('drill dr (short): the region lost under traffic comes back from its backups; RPO ≤ 5 s, RTO split by phase', async () => {
  const r = await runDisasterDrill({ definition: d, stateDir, configFile: config, warmupMs: 5_000, afterMs: 3_000, ratePerSecond: 20 });
  const text = formatDrReport(r);
  expect(r.pass, text).toBe(true);
  expect(r.rpo.acknowledgedBeforeLoss).toBeGreaterThan(10);
  expect(r.rpo.oldestLostAckBeforeLossMs ?? 0).toBeLessThanOrEqual(5_000);
  for (const phase of ['fetchMs', 'prepareMs', 'checkMs', 'installMs', 'rebuildMs', 'appStartMs', 'firstWriteMs'] as const) expect(r.rto[phase]).toBeGreaterThan(0);
  expect(r.rto.totalMs).toBeGreaterThanOrEqual(r.rto.rebuildMs + r.rto.appStartMs);
  expect(r.after.failed).toBe(0);
  expect(existsSync(join(stateDir, 'secrets.json'))).toBe(true); // a new region, built from the definition
  expect(text).toMatch(/RTO [\d.]+ s: loss [\d.]+ s; restore [\d.]+ s \(fetch\+decrypt\+unpack [\d.]+ s.*; replay [\d.]+ s; rebuild [\d.]+ s; app start [\d.]+ s/);
}, 240_000);
