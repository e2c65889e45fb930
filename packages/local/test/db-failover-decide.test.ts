// The failover controller's decisions on observed states, asserted through the sentences it says.
import { resolve } from '@conduit/definition';
import { describe, expect, it } from 'vitest';
import { compareGtid, decide, errantTail, hasErrantTransactions, mergeGtid, redundancy, type Memory, type NodeState, type Observed, type Policy } from '../src/controllers/db-failover-decide.js';
import { planSteps } from '../src/controllers/db-failover-steps.js';

const policy: Policy = { failoverAfterMs: 1000, stallFailoverAfterMs: 5000, semiSyncTimeoutMs: 10_000, maxReaderLagSeconds: 2, asyncPrimaryFailover: 'wait', recloneBrokenReplicaAfterMs: 10_000 };
const goodSemi = { masterEnabled: true, masterStatus: true, masterClients: 2, waitPoint: 'AFTER_SYNC', waitNoSlave: false, timeoutMs: 10_000, slaveEnabled: false };
const replicaSemi = { ...goodSemi, masterEnabled: false, masterStatus: false, masterClients: 0, slaveEnabled: true };

const primary = (name: string, gtid: string, extra: Partial<NodeState> = {}): NodeState => ({
  name, reachable: true, error: null, readOnly: false, replication: null, gtidCurrentPos: gtid, gtidBinlogPos: gtid, gtidBinlogState: gtid, semiSync: goodSemi, ...extra,
});
const replica = (name: string, source: string, applied: string, received = applied, extra: Partial<NodeState> = {}): NodeState => ({
  name, reachable: true, error: null, readOnly: true, gtidCurrentPos: applied, gtidBinlogPos: applied, gtidBinlogState: applied, semiSync: replicaSemi,
  replication: { source, sourcePort: 0, ioRunning: 'Yes', sqlRunning: true, lastError: null, lastSqlErrno: 0, secondsBehind: 0, gtidIoPos: received },
  ...extra,
});
const down = (name: string, error = 'ECONNREFUSED'): NodeState => ({ ...primary(name, ''), reachable: false, error, readOnly: true });

const topo = (p: string) => ({ primary: p, replicas: ['db-a', 'db-b', 'db-c'].filter((n) => n !== p), updatedAt: '2026-01-01T00:00:00Z' });
// A primary unreachable on its socket is unreachable through the writer endpoint too, unless a test says otherwise.
const closed = { answered: false, detail: 'connection closed without an answer' };
const observed = (now: number, nodes: NodeState[], p = 'db-a', extra: Partial<Observed> = {}): Observed => ({
  now, topology: topo(p), nodes,
  writer: Object.fromEntries(nodes.map((n) => [n.name, n.name === p ? 'ready' : 'maint'])),
  reader: Object.fromEntries(nodes.map((n) => [n.name, 'ready'])),
  ...(nodes.find((n) => n.name === p)?.reachable === false ? { writerEndpoint: closed } : {}),
  ...extra,
});
const none: Memory = { unreachableSince: {} };

const healthy = () => [primary('db-a', '0-1-100'), replica('db-b', 'db-a', '0-1-100'), replica('db-c', 'db-a', '0-1-100')];

describe('GTID positions', () => {
  it('compares, merges and spots errant transactions', () => {
    expect(compareGtid('0-1-10', '0-1-9')).toBeGreaterThan(0);
    expect(compareGtid('0-1-10,1-2-5', '0-1-10,1-2-7')).toBeLessThan(0);
    expect(mergeGtid('0-1-10', '0-1-12,1-3-4', '')).toBe('0-1-12,1-3-4');
    expect(hasErrantTransactions('0-1-101', '0-2-100')).toBe(true);
    expect(hasErrantTransactions('0-1-100', '0-2-120')).toBe(false);
    expect(hasErrantTransactions('0-1-100', '0-2-100')).toBe(true);
    expect(errantTail('0-1-101', '0-1-100,0-2-150')).toEqual({ fork: '0-1-100', errant: '0-1-101' });
    expect(errantTail('0-1-100', '0-1-100,0-2-150')).toBeNull();
    expect(errantTail('0-2-140', '0-1-100,0-2-150')).toBeNull();
    expect(errantTail('0-3-5', '0-1-100,0-2-150')).toEqual({ fork: '', errant: '0-3-5' });
  });
});

describe('db failover decisions', () => {
  it('does nothing while everything is in place, or before the bootstrap wrote the topology', () => {
    expect(decide(observed(0, healthy()), none, policy).decision).toEqual({ kind: 'none' });
    expect(decide({ ...observed(0, healthy()), topology: null }, none, policy).decision).toEqual({ kind: 'none' });
  });

  it('waits failoverAfterMs, then promotes the replica that received the most', () => {
    const nodes = [down('db-a'), replica('db-b', 'db-a', '0-1-98', '0-1-100'), replica('db-c', 'db-a', '0-1-99', '0-1-99')];
    const first = decide(observed(10_000, nodes), none, policy);
    expect(first.decision).toMatchObject({ kind: 'wait', sentence: 'primary db-a unreachable (ECONNREFUSED; writer endpoint: connection closed without an answer), gone; failing over if it stays so for 1.0 s' });
    const still = decide(observed(10_900, nodes), first.memory, policy);
    expect(still.decision.kind).toBe('wait');
    const go = decide(observed(11_200, nodes), still.memory, policy);
    expect(go.decision).toMatchObject({ kind: 'failover', from: 'db-a', to: 'db-b', waitForGtid: '0-1-100', repoint: ['db-c'] });
    expect((go.decision as { sentence: string }).sentence).toBe(
      'promoted db-b: primary db-a unreachable for 1.2 s (ECONNREFUSED; writer endpoint: connection closed without an answer), db-b has the most advanced GTID 0-1-100 (db-c: 0-1-99); ' +
        'fenced db-a at the writer endpoint, repointed db-c, writer endpoint now db-b',
    );
  });

  it('between replicas that received as much, promotes one whose applier runs (not one stopped on an error)', () => {
    const broken = replica('db-b', 'db-a', '0-1-98', '0-1-100');
    broken.replication = { ...broken.replication!, sqlRunning: false, lastError: "Could not execute Write_rows_v1 event on table conduit.write_marks; Index for table 'write_marks' is corrupt", lastSqlErrno: 1034 };
    const nodes = [down('db-a'), broken, replica('db-c', 'db-a', '0-1-100', '0-1-100')];
    const first = decide(observed(10_000, nodes), none, policy);
    const go = decide(observed(11_200, nodes), first.memory, policy);
    expect(go.decision).toMatchObject({ kind: 'failover', from: 'db-a', to: 'db-c', waitForGtid: '0-1-100', repoint: ['db-b'] });
  });

  it('re-clones a replica whose applier stays stopped on a data error, once the reader endpoint no longer holds it', () => {
    const broken = (errno: number, error: string) => replica('db-b', 'db-a', '0-1-98', '0-1-100', {
      replication: { source: 'db-a', sourcePort: 0, ioRunning: 'Yes', sqlRunning: false, lastError: error, lastSqlErrno: errno, secondsBehind: null, gtidIoPos: '0-1-100' },
    });
    const dup = broken(1062, "Could not execute Write_rows_v1 event on table conduit.comments; Duplicate entry '7' for key 'PRIMARY'");
    const nodes = [primary('db-a', '0-1-100'), dup, replica('db-c', 'db-a', '0-1-100')];
    // First out of the reader endpoint (step 7), then a wait, then the new copy.
    expect(decide(observed(0, nodes), none, policy).decision).toMatchObject({ kind: 'reader', maint: ['db-b'] });
    const out = { reader: { 'db-a': 'ready' as const, 'db-b': 'maint' as const, 'db-c': 'ready' as const } };
    const first = decide(observed(1_000, nodes, 'db-a', out), none, policy);
    expect(first.decision).toEqual({
      kind: 'wait', node: 'db-b',
      sentence: "db-b's applier stopped on error 1062: Could not execute Write_rows_v1 event on table conduit.comments; Duplicate entry '7' for key 'PRIMARY'; its data cannot be trusted: re-cloning it if it stays so for 10.0 s",
    });
    expect(decide(observed(10_999, nodes, 'db-a', out), first.memory, policy).decision.kind).toBe('wait');
    const go = decide(observed(11_000, nodes, 'db-a', out), first.memory, policy);
    expect(go.decision).toMatchObject({ kind: 'reclone', node: 'db-b', why: "its applier stopped on error 1062: Could not execute Write_rows_v1 event on table conduit.comments; Duplicate entry '7' for key 'PRIMARY' 10.0 s ago" });
    expect(planSteps(go.decision, { nodes: resolve({ database: { replicas: 2 } }).dbNodes, topology: topo('db-a'), replication: { user: 'r', password: 'p', host: '127.0.0.1' }, policy, now: 0, hasReader: true }))
      .toEqual([{ kind: 'reclone', node: 'db-b', why: (go.decision as { why: string }).why }]);
    // The episode ends when the applier runs again (an operator fixed it): the next error counts from zero.
    const fixed = decide(observed(12_000, [primary('db-a', '0-1-100'), replica('db-b', 'db-a', '0-1-100'), replica('db-c', 'db-a', '0-1-100')], 'db-a', out), go.memory, policy);
    expect(fixed.memory.brokenSince).toEqual({});
    expect(decide(observed(13_000, nodes, 'db-a', out), fixed.memory, policy).decision.kind).toBe('wait');
    // Not for an error that may clear (a lock wait the applier retries), nor with the policy off.
    expect(decide(observed(99_000, [nodes[0]!, broken(1205, 'Lock wait timeout exceeded'), nodes[2]!], 'db-a', out), first.memory, policy).decision).toEqual({ kind: 'none' });
    expect(decide(observed(99_000, nodes, 'db-a', out), first.memory, { ...policy, recloneBrokenReplicaAfterMs: 0 }).decision).toEqual({ kind: 'none' });
  });

  it('confirms the failure from two paths: a primary answering through the writer endpoint is never failed over', () => {
    const nodes = [down('db-a', 'ER_CON_COUNT_ERROR'), ...healthy().slice(1)];
    const answering = { writerEndpoint: { answered: true, detail: 'handshake' } };
    let m = none;
    for (const now of [0, 2_000, 60_000]) {
      const r = decide(observed(now, nodes, 'db-a', answering), m, policy);
      expect(r.decision).toEqual({ kind: 'wait', node: 'db-a', sentence: 'primary db-a unreachable on its socket (ER_CON_COUNT_ERROR) but answering through the writer endpoint (handshake): not failing over' });
      expect(r.memory.unreachableSince).toEqual({});
      m = r.memory;
    }
    // The clock starts when both paths fail, not when the socket alone did.
    const both = decide(observed(60_500, nodes), m, policy);
    expect(both.decision.kind).toBe('wait');
    expect(decide(observed(61_600, nodes), both.memory, policy).decision.kind).toBe('failover');
  });

  it('waits stallFailoverAfterMs, not failoverAfterMs, for a primary that is silent rather than gone', () => {
    const silent = { ...down('db-a', 'TIMEOUT: no answer in 600 ms'), stalled: true };
    const nodes = [silent, ...healthy().slice(1)];
    const stall = { writerEndpoint: { answered: false, detail: 'no answer in 600 ms' } };
    const first = decide(observed(0, nodes, 'db-a', stall), none, policy);
    expect(first.decision).toEqual({
      kind: 'wait', node: 'db-a',
      sentence: 'primary db-a unreachable (TIMEOUT: no answer in 600 ms; writer endpoint: no answer in 600 ms), silent (connected, no answer: a stall may end); failing over if it stays so for 5.0 s',
    });
    // A one-second (and a four-second) stall promotes nothing.
    let m = first.memory;
    for (const now of [1_000, 1_500, 4_900]) {
      const r = decide(observed(now, nodes, 'db-a', stall), m, policy);
      expect(r.decision.kind).toBe('wait');
      m = r.memory;
    }
    expect(decide(observed(5_100, nodes, 'db-a', stall), m, policy).decision).toMatchObject({ kind: 'failover', from: 'db-a' });
    // Silent then gone (the stalled process was killed): the shorter threshold applies from the same start.
    expect(decide(observed(1_200, [down('db-a'), ...healthy().slice(1)]), first.memory, policy).decision).toMatchObject({ kind: 'failover', from: 'db-a' });
  });

  it('forgets an outage once the primary answers again', () => {
    const m = decide(observed(0, [down('db-a'), ...healthy().slice(1)]), none, policy).memory;
    const back = decide(observed(500, healthy()), m, policy);
    expect(back.memory.unreachableSince).toEqual({});
    const again = decide(observed(2000, [down('db-a'), ...healthy().slice(1)]), back.memory, policy);
    expect(again.decision.kind).toBe('wait');
  });

  it('says so when no replica is left to promote', () => {
    const m: Memory = { unreachableSince: { 'db-a': 0 } };
    const r = decide(observed(5000, [down('db-a'), down('db-b', 'TIMEOUT'), down('db-c')]), m, policy);
    expect(r.decision).toMatchObject({ kind: 'blocked', sentence: 'cannot fail over: primary db-a unreachable for 5.0 s and no replica is reachable' });
  });

  it('fences a writable node that is not the primary before anything else', () => {
    const nodes = [primary('db-b', '0-2-150'), primary('db-a', '0-1-120'), replica('db-c', 'db-b', '0-2-150')];
    const r = decide(observed(0, nodes, 'db-b'), none, policy);
    expect(r.decision).toMatchObject({
      kind: 'fence', node: 'db-a',
      sentence: 'fenced db-a: it accepted writes (read_only=OFF) but db-b is the primary; set read_only=ON and took it out of the writer endpoint',
    });
  });

  it('rejoins the returning old primary as a replica of the new one', () => {
    const nodes = [replica('db-b', 'db-a', '0-2-150', '0-2-150', { readOnly: false, replication: null, semiSync: goodSemi, gtidBinlogState: '0-1-120,0-2-150' }), { ...primary('db-a', '0-1-120'), readOnly: true }, replica('db-c', 'db-b', '0-2-150')];
    const r = decide(observed(0, nodes, 'db-b'), none, policy);
    expect(r.decision).toMatchObject({ kind: 'repoint', node: 'db-a', to: 'db-b', sentence: 'db-a now replicates from db-b (GTID slave_pos): it had no replication configured' });
  });

  it('rewinds an old primary holding a transaction nobody received, then rejoins it', () => {
    const nodes = [primary('db-b', '0-2-150', { gtidBinlogState: '0-1-120,0-2-150' }), { ...primary('db-a', '0-1-121'), readOnly: true }, replica('db-c', 'db-b', '0-2-150')];
    const r = decide(observed(0, nodes, 'db-b'), none, policy);
    expect(r.decision).toMatchObject({
      kind: 'rewind', node: 'db-a', to: 'db-b', fork: '0-1-120', errant: '0-1-121',
      sentence: 'rewound db-a: it held transactions no replica had acknowledged (0-1-121, after 0-1-120, never received by db-b); saved them to errant/ in the state folder, undid them with a binlog flashback and made it a replica of db-b',
    });
    const steps = planSteps(r.decision, { nodes: resolve({}).dbNodes, topology: topo('db-b'), replication: { user: 'repl', password: 'x' }, policy, now: 0, hasReader: true });
    expect(steps.map((s) => s.kind)).toEqual(['sql', 'save-errant', 'flashback', 'sql']);
    expect(steps[2]).toEqual({ kind: 'flashback', node: 'db-a', startGtid: '0-1-120' });
    expect(steps[1]).toEqual({ kind: 'save-errant', node: 'db-a', startGtid: '0-1-120', errant: '0-1-121' });
    expect((steps[3] as { sql: string[] }).sql.slice(0, 2)).toEqual(['RESET MASTER', "SET GLOBAL gtid_slave_pos = '0-1-120'"]);
  });

  it('refuses to rejoin a node whose transactions the primary cannot place', () => {
    const nodes = [primary('db-b', '0-2-150'), { ...primary('db-a', '0-1-150'), readOnly: true }, replica('db-c', 'db-b', '0-2-150')];
    const r = decide(observed(0, nodes, 'db-b'), none, policy);
    expect(r.decision).toMatchObject({ kind: 'blocked' });
    expect((r.decision as { sentence: string }).sentence).toMatch(/^db-a cannot rejoin: it holds transactions db-b never received/);
  });

  it('reopens a primary that restarted read-only (maintenance restart) instead of failing over', () => {
    const nodes = [{ ...primary('db-a', '0-1-100'), readOnly: true, semiSync: { ...goodSemi, masterEnabled: false } }, ...healthy().slice(1)];
    const r = decide(observed(0, nodes), none, policy);
    expect(r.decision).toMatchObject({ kind: 'open-primary', node: 'db-a', sentence: 'reopened db-a for writes: it is the primary in the topology and it restarted read-only; semi-sync AFTER_SYNC on, read_only=OFF' });
  });

  it('points the writer endpoint at the primary only', () => {
    const r = decide(observed(0, healthy(), 'db-a', { writer: { 'db-a': 'maint', 'db-b': 'ready', 'db-c': 'maint' } }), none, policy);
    expect(r.decision).toMatchObject({ kind: 'switch-writer', sentence: 'writer endpoint now db-a only: db-a was maint, db-b still enabled' });
  });

  it('turns semi-sync on the primary to AFTER_SYNC without blocking the first commit', () => {
    const nodes = [primary('db-a', '0-1-100', { semiSync: { ...goodSemi, waitPoint: 'AFTER_COMMIT', waitNoSlave: true } }), ...healthy().slice(1)];
    const r = decide(observed(0, nodes), none, policy);
    expect(r.decision).toMatchObject({ kind: 'configure-primary', sentence: 'configured semi-sync on primary db-a: master enabled (was on), wait point AFTER_SYNC (was AFTER_COMMIT), wait_no_slave OFF, timeout 10000 ms' });
  });

  it('takes a lagging or unreachable replica out of the reader endpoint and brings it back', () => {
    const lagging = [primary('db-a', '0-1-100'), replica('db-b', 'db-a', '0-1-50', '0-1-100', {}), down('db-c', 'TIMEOUT')];
    lagging[1]!.replication!.secondsBehind = 7;
    const r = decide(observed(0, lagging), none, policy);
    expect(r.decision).toMatchObject({ kind: 'reader', ready: [], maint: ['db-b', 'db-c'], sentence: 'reader endpoint: db-b lagging 7 s > 2 s; db-c unreachable (TIMEOUT)' });
    const back = decide(observed(0, healthy(), 'db-a', { reader: { 'db-a': 'ready', 'db-b': 'maint', 'db-c': 'ready' } }), none, policy);
    expect(back.decision).toMatchObject({ kind: 'reader', ready: ['db-b'], maint: [], sentence: 'reader endpoint: db-b back (lag 0 s)' });
  });
});

describe('failover steps', () => {
  it('fences, applies the relay log, promotes, records the topology, then repoints and switches the writer', () => {
    const definition = resolve({ zones: 3, database: { replicas: 2 } });
    const steps = planSteps(
      { kind: 'failover', from: 'db-a', to: 'db-b', waitForGtid: '0-1-100', repoint: ['db-c'], sentence: '' },
      { nodes: definition.dbNodes, topology: topo('db-a'), replication: { user: 'repl', password: "p'w" }, policy, now: Date.parse('2026-01-01T00:00:00Z'), hasReader: true },
    );
    expect(steps.map((s) => `${s.kind}${'node' in s ? ` ${s.node}` : ''}`)).toEqual(['haproxy', 'sql db-a', 'gtid-wait db-b', 'sql db-b', 'topology', 'sql db-c', 'haproxy']);
    expect(steps[0]).toMatchObject({ commands: ['set server be_db_writer/db-a state maint', 'shutdown sessions server be_db_writer/db-a', 'set server be_db_reader/db-a state maint'] });
    const promote = steps[3] as { sql: string[] };
    expect(promote.sql).toContain('SET GLOBAL rpl_semi_sync_master_wait_no_slave = OFF');
    expect(promote.sql).toContain('SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC');
    expect(promote.sql.at(-1)).toBe('SET GLOBAL read_only = OFF');
    const repoint = steps[5] as { sql: string[] };
    expect(repoint.sql.join('\n')).toContain(`MASTER_PORT = ${definition.dbNodes[1]!.port}, MASTER_USER = 'repl', MASTER_PASSWORD = 'p\\'w', MASTER_USE_GTID = slave_pos`);
    expect(steps[4]).toEqual({ kind: 'topology', topology: { primary: 'db-b', replicas: ['db-a', 'db-c'], updatedAt: '2026-01-01T00:00:00.000Z' } });
  });
});

describe('redundancy against the definition', () => {
  it('is full with every replica replicating and acknowledging, and says what is missing otherwise', () => {
    expect(redundancy(observed(0, healthy()), 2)).toEqual({ full: true, replicating: ['db-b', 'db-c'], semiSyncReplicas: 2, shortfall: '' });
    const oneDown = [primary('db-b', '0-1-100', { semiSync: { ...goodSemi, masterClients: 1 } }), down('db-a'), replica('db-c', 'db-b', '0-1-100')];
    expect(redundancy(observed(0, oneDown, 'db-b'), 2)).toMatchObject({
      full: false,
      shortfall: '1 of 2 replicas replicating from db-b (db-a: unreachable); semi-sync on db-b with 1 of 2 replicas acknowledging',
    });
    const stale = [primary('db-a', '0-1-100'), replica('db-b', 'db-c', '0-1-100'), replica('db-c', 'db-a', '0-1-100', '0-1-100', { replication: { source: 'db-a', sourcePort: 0, ioRunning: 'No', sqlRunning: true, lastError: 'boom', lastSqlErrno: 0, secondsBehind: null, gtidIoPos: '' } })];
    expect(redundancy(observed(0, stale), 2)?.shortfall).toBe('0 of 2 replicas replicating from db-a (db-b: replicating from db-c, db-c: boom)');
    expect(redundancy(observed(0, [down('db-a'), ...healthy().slice(1)]), 2)?.shortfall).toBe('primary db-a unreachable');
    expect(redundancy({ ...observed(0, healthy()), topology: null }, 2)).toBeNull();
  });
});

describe('a primary lost while it committed asynchronously', () => {
  const alone = () => [primary('db-a', '0-1-130', { semiSync: { ...goodSemi, masterStatus: false, masterClients: 0 } }), replica('db-b', 'db-a', '0-1-100'), replica('db-c', 'db-a', '0-1-100')];
  const lost = [down('db-a'), replica('db-b', 'db-a', '0-1-100'), replica('db-c', 'db-a', '0-1-100')];
  it('is not failed over by default: it waits for the primary (never trades an acknowledged write)', () => {
    const seen = decide(observed(10_000, alone()), none, policy);
    expect(seen.memory.lastSemiSync).toEqual({ node: 'db-a', async: true, since: 10_000 });
    const first = decide(observed(12_000, lost), seen.memory, policy);
    const r = decide(observed(13_500, lost), first.memory, policy);
    expect(r.decision).toEqual({
      kind: 'blocked',
      sentence: 'not promoting: primary db-a unreachable for 1.5 s (ECONNREFUSED; writer endpoint: connection closed without an answer), committing without any replica\'s acknowledgement for 3.5 s before it was lost, so no replica is sure to hold every acknowledged write (database.asyncPrimaryFailover: wait); waiting for db-a to come back or for an operator',
    });
  });
  it('is failed over with asyncPrimaryFailover promote, saying since when writes may be lost', () => {
    const p: Policy = { ...policy, asyncPrimaryFailover: 'promote' };
    const seen = decide(observed(10_000, alone()), none, p);
    const first = decide(observed(12_000, lost), seen.memory, p);
    const r = decide(observed(13_500, lost), first.memory, p);
    expect(r.decision.kind).toBe('failover');
    expect((r.decision as { sentence: string }).sentence).toMatch(/; WARNING: db-a was committing asynchronously since 1970-01-01T00:00:10.000Z: writes acknowledged since then may be lost \(database.asyncPrimaryFailover: promote\)$/);
  });
  it('fails over as usual once a replica acknowledged again', () => {
    const seen = decide(observed(10_000, alone()), none, policy);
    const again = decide(observed(11_000, healthy()), seen.memory, policy);
    expect(again.memory.lastSemiSync).toEqual({ node: 'db-a', async: false, since: 11_000 });
    const first = decide(observed(12_000, lost), again.memory, policy);
    expect(decide(observed(13_500, lost), first.memory, policy).decision.kind).toBe('failover');
  });
});

describe('a re-cloned node', () => {
  it('rejoins from the GTID position of its copy, then sets the copy\'s coordinates aside', () => {
    const cloned = { ...primary('db-c', ''), readOnly: true, replication: null, semiSync: replicaSemi, cloneGtid: '0-1-95' };
    const r = decide(observed(0, [primary('db-a', '0-1-100'), replica('db-b', 'db-a', '0-1-100'), cloned]), none, policy);
    expect(r.decision).toEqual({ kind: 'repoint', node: 'db-c', to: 'db-a', slavePos: '0-1-95', sentence: 'db-c now replicates from db-a from the position of its re-clone (0-1-95)' });
    const steps = planSteps(r.decision, { nodes: resolve({}).dbNodes, topology: topo('db-a'), replication: { user: 'repl', password: 'x' }, policy, now: 0, hasReader: true });
    expect((steps[0] as { sql: string[] }).sql.slice(0, 2)).toEqual(['STOP SLAVE', "SET GLOBAL gtid_slave_pos = '0-1-95'"]);
    expect(steps[1]).toEqual({ kind: 'clone-rejoined', node: 'db-c' });
  });
});
