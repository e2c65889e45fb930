import { describe, expect, it } from 'vitest';
import { checkSet, WriteLedger } from '../src/ledger.js';

/** Builds a ledger from a compact history: [id, outcome]. */
function history(...writes: [string, 'acknowledged' | 'failed' | 'indeterminate' | 'pending'][]) {
  const l = new WriteLedger();
  for (const [id, outcome] of writes) {
    l.attempt(id, 1000);
    if (outcome !== 'pending') l.settle(id, outcome, null, 1001);
  }
  return l;
}

describe('set checker', () => {
  it('passes when every acknowledged write is present and nothing else is', () => {
    const l = history(['w1', 'acknowledged'], ['w2', 'acknowledged'], ['w3', 'failed']);
    const c = checkSet(l.all(), ['w1', 'w2']);
    expect(c.ok).toBe(true);
    expect(c).toMatchObject({ attempted: 3, acknowledged: 2, failed: 1, lost: [], unexpected: [], recovered: [] });
  });

  it('fails on an acknowledged write missing from the final read (lost)', () => {
    const l = history(['w1', 'acknowledged'], ['w2', 'acknowledged'], ['w3', 'acknowledged']);
    const c = checkSet(l.all(), ['w1', 'w3']);
    expect(c.ok).toBe(false);
    expect(c.lost).toEqual(['w2']);
  });

  it('fails on a present write that was never attempted (unexpected)', () => {
    const l = history(['w1', 'acknowledged']);
    const c = checkSet(l.all(), ['w1', 'w99']);
    expect(c.ok).toBe(false);
    expect(c.unexpected).toEqual(['w99']);
    expect(c.lost).toEqual([]);
  });

  it('counts indeterminate writes that appear as recovered, and absent ones as fine', () => {
    const l = history(['w1', 'indeterminate'], ['w2', 'indeterminate'], ['w3', 'pending'], ['w4', 'acknowledged']);
    const c = checkSet(l.all(), ['w1', 'w3', 'w4']);
    expect(c.ok).toBe(true);
    expect(c.recovered).toEqual(['w1', 'w3']);
    expect(c.notRecovered).toBe(1);
    expect(c.indeterminate).toBe(3);
  });

  it('reports lost, unexpected and recovered together, sorted numerically', () => {
    const l = history(['w2', 'acknowledged'], ['w10', 'acknowledged'], ['w11', 'indeterminate'], ['w12', 'acknowledged']);
    const c = checkSet(l.all(), ['w11', 'w12', 'x1', 'x0']);
    expect(c.ok).toBe(false);
    expect(c.lost).toEqual(['w2', 'w10']);
    expect(c.unexpected).toEqual(['x0', 'x1']);
    expect(c.recovered).toEqual(['w11']);
  });

  it('reports duplicates and failed-but-present without failing on them', () => {
    const l = history(['w1', 'acknowledged'], ['w2', 'failed']);
    const c = checkSet(l.all(), ['w1', 'w1', 'w2']);
    expect(c.ok).toBe(true);
    expect(c.duplicated).toEqual(['w1']);
    expect(c.failedButPresent).toEqual(['w2']);
  });

  it('refuses a reused id and a write settled twice', () => {
    const l = history(['w1', 'acknowledged']);
    expect(() => l.attempt('w1')).toThrow(/attempted twice/);
    expect(() => l.settle('w1', 'failed')).toThrow(/settled twice/);
    expect(() => l.settle('nope', 'failed')).toThrow(/never attempted/);
  });
});
