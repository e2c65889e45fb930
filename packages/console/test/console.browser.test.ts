// The console on a real region (test/region.config.ts, ports 27xxx), driven by Debian's chromium: every
// process has a box, a stopped instance turns red and back while its alert fires and resolves through
// Prometheus → Alertmanager → the console, and a request id finds the edge's, the LB's and the API's lines.
// Screenshots go to .test-state/console-screenshots/ for review.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { observabilityPanels, resolve } from '@conduit/definition';
import { repoRoot, supervisorRequest } from '@conduit/local';
import { processTree, readProcess } from '../src/index.js';
import config from './region.config.js';

const execFileP = promisify(execFile);
const configFile = join(import.meta.dirname, 'region.config.ts');
const d = resolve(config);
const stateDir = join(import.meta.dirname, d.local.stateDir);
const consoleUrl = `http://127.0.0.1:${d.local.ports.console}/`;
const edge = `http://127.0.0.1:${d.local.ports.edge}`;
export const screenshots = join(repoRoot, '.test-state', 'console-screenshots');

const tier = async (...args: string[]) => {
  try {
    const r = await execFileP(process.execPath, [join(repoRoot, 'packages/cli/bin/tier.mjs'), ...args, '--config', configFile], {
      cwd: repoRoot, timeout: 300_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CONDUIT_SKIP_WEB_BUILD: '1' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

let browser: Browser;
/** Every asset is the console's own: requests anywhere else are collected here and must stay none. */
const foreign: string[] = [];
let page: Page;
const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
const boxState = (name: string) => page.locator(`#topology g.node[data-node="${name}"]`).getAttribute('data-state');

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  const up = await tier('up');
  if (up.code !== 0) throw new Error(`tier up failed: ${(up.stderr || up.stdout).slice(-3000)}`);
  if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: run `node scripts/bootstrap.mjs`');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  // Every asset is the console's own: a request anywhere else fails the test.
  page.on('request', (r) => {
    if (!r.url().startsWith(consoleUrl) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  await page.goto(consoleUrl);
});

afterAll(async () => {
  await browser?.close();
  const r = await tier('destroy');
  if (r.code !== 0) process.stderr.write(`tier destroy: ${r.stderr}\n`);
});

describe('the ops console on a running region', () => {
  it('`tier status` names the console, and the topology has a healthy box for every process', async () => {
    const table = await tier('status');
    expect(table.stdout).toContain(`ops console: ${consoleUrl}`);
    const status = JSON.parse((await tier('status', '--json')).stdout) as { processes: Array<{ name: string }> };
    const names = status.processes.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['console', 'alertmanager', 'blackbox-exporter', 'prometheus', 'lb', 'edge']));
    await expect.poll(async () => page.locator('#topology g.node[data-state="healthy"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-process'))), { timeout: 30_000 })
      .toEqual(expect.arrayContaining(names));
    const drawn = await page.locator('#topology g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-process')));
    expect([...new Set(drawn)].sort()).toEqual([...names].sort());
    await shot('1-topology-healthy');
    expect(foreign).toEqual([]);
  });

  it('draws every panel of the definition from Prometheus', async () => {
    const panels = observabilityPanels(d);
    await expect.poll(() => page.locator('#charts .panel').count(), { timeout: 20_000 }).toBe(panels.length);
    // Requests per second needs a few scrapes of HAProxy: wait for a drawn chart without an error.
    await expect.poll(async () => {
      await page.selectOption('#range', '900');
      return page.locator('#panel-api-requests .err').textContent();
    }, { timeout: 30_000, interval: 2_000 }).toBe('');
    expect(await page.locator('#panel-api-requests canvas').count()).toBeGreaterThan(0);
    await shot('2-charts');
  });

  it('finds one request by its id in the edge\'s, the LB\'s and the API\'s logs', async () => {
    const id = `console-test-${randomUUID()}`;
    // A query string no cache has seen: the request goes edge → LB → API.
    const r = await fetch(`${edge}/api/articles?tag=${id}`, { headers: { 'x-request-id': id } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(id);
    await page.fill('#log-form input[name="requestId"]', id);
    await expect.poll(async () => {
      await page.click('#log-form button[type="submit"]');
      await page.waitForTimeout(500);
      return page.locator('#log-results tbody tr').evaluateAll((rows) => [...new Set(rows.map((tr) => tr.getAttribute('data-component')))].sort());
    }, { timeout: 20_000, interval: 1_000 }).toEqual(['api', 'haproxy', 'varnish']);
    await shot('3-log-search-request-id');
    // Without one, the edge makes the id (and its access log, the LB and the API keep it); straight to the
    // LB, HAProxy makes one (hex fields, not the API's own UUID).
    const made = (await fetch(`${edge}/api/articles?tag=${randomUUID()}`)).headers.get('x-request-id');
    expect(made).toMatch(/^edge-\d+-\d+$/);
    const byLb = (await fetch(`http://127.0.0.1:${d.local.ports.api}/api/articles?tag=${randomUUID()}`)).headers.get('x-request-id');
    expect(byLb).toMatch(/^[0-9A-F]{8}-[0-9A-F]+-[0-9A-F]+-/);
    await page.fill('#log-form input[name="requestId"]', '');
  });

  it('turns a stopped API instance red while its alert fires, and back to healthy while it resolves', async () => {
    await supervisorRequest(stateDir, { op: 'stop', name: 'api-2' });
    await expect.poll(() => boxState('api-2'), { timeout: 15_000 }).toBe('down');
    expect(await boxState('api-1')).toBe('healthy');
    await shot('4-api-2-down');
    // Prometheus (rule `for` 30 s) → Alertmanager → webhook → the console's list.
    await expect.poll(() => page.locator('#alerts li[data-status="firing"]').count(), { timeout: 90_000, interval: 2_000 }).toBeGreaterThan(0);
    const firing = await page.locator('#alerts li[data-status="firing"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert')));
    await shot('5-alert-firing');

    expect(await supervisorRequest(stateDir, { op: 'start', name: 'api-2' })).toMatchObject({ pid: expect.any(Number) });
    await expect.poll(() => boxState('api-2'), { timeout: 30_000 }).toBe('healthy');
    await expect.poll(() => page.locator('#alerts li[data-status="firing"]').count(), { timeout: 90_000, interval: 2_000 }).toBe(0);
    for (const name of firing) expect(await page.locator(`#alerts li[data-alert="${name}"]`).first().getAttribute('data-status')).toBe('resolved');
    expect(await page.locator('#alerts li .timeline').first().textContent()).toMatch(/firing .* → resolved /);
    await shot('6-alert-resolved');
  }, 240_000);

  it('stays small: the console and the children it keeps running', async () => {
    const status = JSON.parse((await tier('status', '--json')).stdout) as { processes: Array<{ name: string; pid: number | null }> };
    const pid = status.processes.find((p) => p.name === 'console')!.pid!;
    // 20 samples over 10 s: the log worker (DuckDB) runs about a second per ingest (every 15 s), the layout
    // child only when the region changes shape; what the console keeps is the console process alone.
    const own: number[] = [];
    const tree: number[] = [];
    for (let i = 0; i < 20; i++) {
      own.push(rssMb(pid));
      tree.push(treeRssMb(pid));
      await new Promise((r) => setTimeout(r, 500));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stderr.write(`[console] console process RSS: min ${Math.min(...own).toFixed(0)} / median ${median(own).toFixed(0)} / max ${Math.max(...own).toFixed(0)} MB; `
      + `with its children: median ${median(tree).toFixed(0)} / max ${Math.max(...tree).toFixed(0)} MB (issue: <= 100 MB)\n`);
    expect(Math.max(...own)).toBeLessThanOrEqual(100);
    expect(median(tree)).toBeLessThanOrEqual(100);
  });
});

/** Resident memory of a process in MB (0 once it has exited). */
const rssMb = (pid: number) => (readProcess(pid)?.rssBytes ?? 0) / 1024 / 1024;
/** A process's RSS plus its descendants'. */
const treeRssMb = (pid: number) => processTree(pid).reduce((sum, p) => sum + rssMb(p), 0);
