// The region-loss drill's guards and report, without a region: it refuses a definition with one region and
// regions not in their starting roles; the report lists lost writes with their distance to the fault; the
// DNS follower refuses a server that does not answer; the load accepts any loopback address (each region has one).
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { assertLoopback, followDns, formatRegionLoss, runRegionLoss } from '../src/index.js';

describe('region-loss without two running regions', () => {
  it('needs two regions, in their starting roles', async () => {
    await expect(runRegionLoss(resolve({ regions: { secondary: null }, backup: { copyToSecondary: false } }), '/tmp/conduit-no-region')).rejects.toThrow(/needs two regions/);
    await expect(runRegionLoss(resolve({}), '/tmp/conduit-no-region')).rejects.toThrow('starts from eu-west-1 primary and eu-central-1 standby; the roles are none / none (not started, or after an earlier region-loss)');
  });
  it('reports lost writes inside and outside the RPO window by id', () => {
    const lines = formatRegionLoss({
      lostRegion: 'eu-west-1', survivingRegion: 'eu-central-1', killed: 22, detectedMs: 40, decidedMs: 4040, promotedMs: 4090, dnsFlipMs: 4600,
      clientSwitchedMs: 9000, serviceBackMs: 9100, lost: [{ id: 'w1', ackedBeforeFaultMs: 120 }], rpoWindowMs: 120, lostInsideRpoWindow: 1,
      lostOutsideRpoWindow: 0, lagBeforeSeconds: 0, gtidDistanceBefore: 1,
    });
    expect(lines[1]).toBe('  RTO: detection 0.04 s, decision 4.04 s, promotion done 4.09 s, DNS flip 4.60 s, client switched 9.00 s, service back 9.10 s (all from the fault)');
    expect(lines[2]).toBe('  RPO: 1 acknowledged write(s) lost, 1 inside the 1000 ms window, 0 outside; window shown 120 ms');
    expect(lines[3]).toContain('w1 (120)');
  });
  it('the DNS follower needs an answer to start; the load takes any 127.x address', async () => {
    await expect(followDns(['127.0.0.1:30999', '127.0.2.1:30999'], 'www.nowhere.test', 80)).rejects.toThrow(/servers 127.0.0.1:30999, 127.0.2.1:30999 gave no address for www.nowhere.test/);
    expect(assertLoopback('http://127.0.2.1:8080/').hostname).toBe('127.0.2.1');
    expect(() => assertLoopback('http://10.0.0.1/')).toThrow(/not on loopback/);
  });
});
