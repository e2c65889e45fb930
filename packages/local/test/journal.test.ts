// The action journal: what stays open is what a crash interrupted; a line cut by a crash is ignored; the
// file stays bounded without losing an open entry.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactJournal, controllerJournal, openEntries } from '../src/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('action journal', () => {
  it('lists entries opened and never closed, per controller, with what they need to be resumed', () => {
    const file = join(dir, 'a.jsonl');
    const db = controllerJournal(file, 'db-failover');
    const as = controllerJournal(file, 'autoscaler');
    const done = db.open('failover', { sentence: 'promoted db-b' });
    db.close(done, 'done');
    const cut = as.open('scale-in', { instances: ['api-3'] });
    expect(openEntries(file)).toEqual([{ id: cut, controller: 'autoscaler', action: 'scale-in', detail: { instances: ['api-3'] }, openedAt: expect.any(String), pid: process.pid }]);
    // A SIGKILL in the middle of a write leaves half a line: it is skipped, the rest still reads.
    appendFileSync(file, '{"op":"open","id":"x","contr');
    expect(openEntries(file).map((e) => e.id)).toEqual([cut]);
    controllerJournal(file, 'autoscaler').close(cut, 'resumed'); // a new supervisor's handle
    expect(openEntries(file)).toEqual([]);
    expect(openEntries(join(dir, 'missing.jsonl'))).toEqual([]);
  });

  it('stays bounded: compaction keeps every open entry and the latest lines', () => {
    const file = join(dir, 'b.jsonl');
    const j = controllerJournal(file, 'db-failover');
    const old = j.open('rewind', { sentence: 'rewound db-a' });
    for (let i = 0; i < 1_400; i++) j.close(j.open('reader', { sentence: `reader ${i}` }), 'done');
    const lines = readFileSync(file, 'utf8').trim().split('\n').length;
    expect(lines).toBeLessThanOrEqual(2_000);
    compactJournal(file);
    expect(openEntries(file).map((e) => e.id)).toEqual([old]);
    expect(readFileSync(file, 'utf8')).toContain('reader 1399');
  });
});
