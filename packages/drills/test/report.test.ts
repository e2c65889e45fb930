// The report names the first failed requests: when, which call, what error, how long, who answered what.
import { describe, expect, it } from 'vitest';
import { firstFailures } from '../src/report.js';
import type { Sample } from '../src/load.js';

const sample = (seq: number, sentAt: number, ok: boolean, detail?: string): Sample => ({
  seq, kind: 'write', label: 'POST comment', idempotent: false, dueAt: sentAt, sentAt, endedAt: sentAt + 1234, latencyMs: 1234,
  status: ok ? 201 : 503, outcome: ok ? 'ok' : 'http-error', errorKind: ok ? null : 'http 503', maybeSent: true, ...(detail ? { detail } : {}),
});

describe('firstFailures', () => {
  it('lists the failed requests in the order they were sent, from the fault, at most n', () => {
    const fault = 10_000;
    const samples = [sample(3, 21_230, false, 'request edge-7: {"errors":{"database":["is unavailable, retry shortly"]}}'), sample(1, 9_500, false), sample(2, 12_000, true), sample(4, 30_000, false)];
    expect(firstFailures(samples, fault, 2)).toEqual([
      { sentAtS: -0.5, label: 'POST comment', error: 'http 503', latencyMs: 1234, detail: null },
      { sentAtS: 11.23, label: 'POST comment', error: 'http 503', latencyMs: 1234, detail: 'request edge-7: {"errors":{"database":["is unavailable, retry shortly"]}}' },
    ]);
    expect(firstFailures([sample(1, 1, true)], 0)).toEqual([]);
  });
});
