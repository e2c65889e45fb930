// `tier cost aws`: the monthly estimate is computed from the definition and the dated price table.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolve, type DefinitionInput } from '@conduit/definition';
import { CostError, estimateCost, formatCost } from '../src/cost/estimate.js';
import { PRICES, PRICES_AS_OF } from '../src/cost/prices.js';
import { examples } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const line = (r: ReturnType<typeof estimateCost>, region: string, item: string) => r.regions.find((x) => x.region === region)!.lines.find((l) => l.item.startsWith(item));

describe('the monthly estimate', () => {
  const minimal = estimateCost(resolve(examples.minimal!));

  it('adds up per region and in total, with the items a first bill shows', () => {
    for (const r of minimal.regions) expect(r.total).toBeCloseTo(r.lines.reduce((a, l) => a + l.usd, 0), 1);
    expect(minimal.total).toBeCloseTo(minimal.regions.reduce((a, r) => a + r.total, 0) + minimal.global.total, 1);
    const items = minimal.regions.flatMap((r) => r.lines.map((l) => l.item)).join('\n');
    for (const item of ['Public IPv4', 'Route 53 health checks', 'Aurora Global Database replicated write I/O', 'CloudWatch Logs ingestion', 'Cross-region transfer']) expect(items).toContain(item);
    expect(minimal.pricesAsOf).toBe(PRICES_AS_OF);
  });

  it('follows the definition: counts, types and regions', () => {
    const more = estimateCost(resolve({ ...examples.minimal, api: { instances: { min: 3, desired: 6, max: 9 } } } as DefinitionInput));
    const delta = line(more, 'eu-west-1', 'EC2 API')!.usd - line(minimal, 'eu-west-1', 'EC2 API')!.usd;
    expect(delta).toBeCloseTo(3 * 730 * PRICES['eu-west-1']!.ec2['t4g.small']!, 1);
    const single = estimateCost(resolve(examples['single-region']!));
    expect(single.regions.map((r) => r.region)).toEqual(['eu-west-1']);
    expect(line(single, 'eu-west-1', 'Aurora Global Database')).toBeUndefined();
    expect(line(single, 'eu-west-1', 'Aurora MySQL')!.quantity).toBe('2 × 730 h');
    expect(single.total).toBeLessThan(minimal.total / 1.8);
    // A warm standby (regions.secondaryScale) costs what the secondary's stack runs; the primary is unchanged.
    const warm = estimateCost(resolve({ ...examples.minimal, regions: { secondaryScale: { api: 1, front: 1, databaseReplicas: 1 } } } as DefinitionInput));
    expect(line(warm, 'eu-central-1', 'EC2 API')!.quantity).toBe('1 × 730 h');
    expect(line(warm, 'eu-central-1', 'Aurora MySQL')!.quantity).toBe('2 × 730 h');
    expect(line(warm, 'eu-west-1', 'EC2 API')!.usd).toBe(line(minimal, 'eu-west-1', 'EC2 API')!.usd);
  });

  it('stops with one line for a region or a type the price table lacks (no guessed price)', () => {
    expect(() => estimateCost(resolve({ regions: { primary: 'ap-south-1', secondary: null }, backup: { copyToSecondary: false } }))).toThrow(CostError);
    expect(() => estimateCost(resolve({ regions: { primary: 'ap-south-1', secondary: null }, backup: { copyToSecondary: false } }))).toThrow(/^no prices for region ap-south-1 in packages\/aws\/src\/cost\/prices\.ts/);
    expect(() => estimateCost(resolve({ api: { instanceType: 'x9.huge' } }))).toThrow(/no EC2 price for x9\.huge in eu-west-1/);
  });

  it('refuses a burstable database class with a Global Database (it cannot join one)', () => {
    expect(() => estimateCost(resolve({ database: { instanceClass: 'db.t4g.medium' } }))).toThrow(/database\.instanceClass \(db\.t4g\.medium\) cannot join an Aurora Global Database/);
    expect(estimateCost(resolve({ regions: { secondary: null }, backup: { copyToSecondary: false }, database: { instanceClass: 'db.t4g.medium' } })).regions).toHaveLength(1);
  });

  it('prints each region, the global part and the total', () => {
    const text = formatCost(minimal);
    expect(text).toMatch(/^eu-west-1 \(primary\)$/m);
    expect(text).toMatch(/^eu-central-1 \(secondary\)$/m);
    expect(text).toMatch(/^total per month\s+[\d,]+\.\d\d$/m);
  });
});

describe('tier cost aws', () => {
  const tier = (args: string[]) => spawnSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  it('prints the estimate of the definition (and JSON with --json)', () => {
    const r = tier(['cost', 'aws', '--config', 'examples/complete.config.ts']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('us-east-1 (primary)');
    expect(r.stdout).toContain('Aurora MySQL db.r6g.xlarge (3 × 730 h)');
    const j = tier(['cost', 'aws', '--config', 'examples/complete.config.ts', '--json']);
    expect(JSON.parse(j.stdout).total).toBeGreaterThan(1000);
    console.log(`complete example: ${r.stdout.split('\n').find((l) => l.startsWith('total per month'))}`);
  });
  it('says what is wrong in one line', () => {
    const r = tier(['cost']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('tier: `tier cost` needs a target: run `tier cost aws`');
  });
});
