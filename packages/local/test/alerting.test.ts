// Alertmanager, the blackbox exporter and the ops console in the region: generated configs checked by the
// real tools (amtool, blackbox_exporter --config.check, promtool), and the process specs they run as.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { alertmanagerConfig, blackboxConfig, blackboxTargets, portClaims, prometheusConfig, prometheusRules, regionSpecs, statePaths } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'local-alerting-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const d = resolve({});
const off = resolve({ observability: { console: false } });
const secrets = { jwtSecret: 'x'.repeat(32), appUser: 'a', appPassword: 'a', replUser: 'r', replPassword: 'r', exporterUser: 'e', exporterPassword: 'e', adminUser: 'admin', adminPassword: 'ad', redisAdminPassword: 'radm', redisApiUser: 'conduit-api', redisApiPassword: 'rapi', redisReplicaPassword: 'rrep', redisSentinelPassword: 'rsen', redisExporterPassword: 'rexp', sentinelPassword: 'spw' };
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('alert routing and synthetic checks', () => {
  it('Alertmanager sends firing and resolved alerts to the console (amtool check-config)', () => {
    const text = alertmanagerConfig(d);
    expect(text).toContain(`url: http://127.0.0.1:${d.local.ports.console}/api/alerts`);
    expect(text).toContain('send_resolved: true');
    expect(execFileSync('amtool', ['check-config', write('alertmanager.yml', text)], { encoding: 'utf8' })).toContain('SUCCESS');
  });

  it('the blackbox modules load, and Prometheus probes the site and the API through the edge and alerts to Alertmanager (promtool)', () => {
    execFileSync('prometheus-blackbox-exporter', ['--config.check', `--config.file=${write('blackbox.yml', blackboxConfig())}`], { stdio: 'pipe' });
    expect(blackboxTargets(d).map((t) => t.url)).toEqual([`http://127.0.0.1:${d.local.ports.edge}/`, `http://127.0.0.1:${d.local.ports.edge}/api/tags`]);
    const paths = statePaths(dir);
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(paths.prometheusRules, prometheusRules(d));
    const text = prometheusConfig(d, paths);
    expect(text).toContain(`- targets: ['127.0.0.1:${d.local.ports.alertmanager}']`);
    expect(text).toContain('job_name: probe-api');
    expect(prometheusRules(d)).toContain('probe_success{job=~"probe-.*"} == 0');
    expect(execFileSync('promtool', ['check', 'config', write('prometheus.yml', text)], { encoding: 'utf8' })).toContain('SUCCESS');
    const without = prometheusConfig(off, paths);
    expect(without).not.toContain('alertmanagers');
    expect(without).not.toContain('probe-');
  });

  it('runs the console, Alertmanager and the blackbox exporter on loopback unless observability.console is off', () => {
    const ctx = (definition: typeof d) => ({ definition, paths: statePaths(join(dir, 'state')), secrets, version: 'v1', tsxLoader: '/tsx' });
    const specs = regionSpecs(ctx(d));
    const byName = (n: string) => specs.find((s) => s.name === n)!;
    expect(byName('console')).toMatchObject({ tier: 'monitoring', port: d.local.ports.console, probe: { kind: 'http', path: '/health' }, restartPolicy: 'replace' });
    expect(byName('console').args.at(-1)).toBe(join(dir, 'state'));
    expect(byName('alertmanager').args).toEqual(expect.arrayContaining([`--web.listen-address=127.0.0.1:${d.local.ports.alertmanager}`, '--cluster.listen-address=']));
    expect(byName('blackbox-exporter').args).toContain(`--web.listen-address=127.0.0.1:${d.local.ports.blackboxExporter}`);
    expect(portClaims(d).map((c) => c.setting)).toEqual(expect.arrayContaining(['local.ports.console', 'local.ports.alertmanager', 'local.ports.blackboxExporter']));
    const names = regionSpecs(ctx(off)).map((s) => s.name);
    expect(names).not.toContain('console');
    expect(names).not.toContain('alertmanager');
    expect(portClaims(off).map((c) => c.setting)).not.toContain('local.ports.console');
  });
});
