// When a restarted MariaDB node gets a new copy of its data: mariadbd's own log lines (captured from MariaDB
// 10.11 on these machines: a garbled and a truncated ibdata1, a garbled .ibd page 0) and the topology decide.
import { describe, expect, it } from 'vitest';
import { corruptDataEvidence, recloneDecision } from '../src/supervisor/reclone.js';

const start = (n: number) => `2026-11-29 22:02:1${n} 0 [Note] Starting MariaDB 10.11.19-MariaDB-0+deb12u1-log source revision 5843 server_uid x= as process 1284${n}`;
const healthyRun = [start(0), '2026-11-29 22:02:10 0 [Note] InnoDB: Completed initialization of buffer pool', '2026-11-29 22:02:10 0 [Note] mariadbd: ready for connections.'];
const garbledIbdata = [
  start(9),
  '2026-11-29 22:02:19 0 [Note] InnoDB: File system buffers for log disabled (block size=4096 bytes)',
  '2026-11-29 22:02:19 0 [ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1',
  '2026-11-29 22:02:19 0 [ERROR] InnoDB: Plugin initialization aborted with error Data structure corruption',
  '2026-11-29 22:02:19 0 [Note] InnoDB: Starting shutdown...',
  "2026-11-29 22:02:19 0 [ERROR] Plugin 'InnoDB' registration as a STORAGE ENGINE failed.",
  '2026-11-29 22:02:19 0 [ERROR] Unknown/unsupported storage engine: InnoDB',
  '2026-11-29 22:02:19 0 [ERROR] Aborting',
];
const truncatedIbdata = [
  start(1),
  "2026-11-29 22:02:21 0 [ERROR] InnoDB: The Auto-extending data file './ibdata1' is of a different size 0 pages than specified by innodb_data_file_path",
  '2026-11-29 22:02:21 0 [ERROR] InnoDB: Plugin initialization aborted with error Generic error',
  '2026-11-29 22:02:21 0 [ERROR] Aborting',
];
const portTaken = [start(2), "2026-11-29 22:02:22 0 [ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use", '2026-11-29 22:02:22 0 [ERROR] Aborting'];
// A garbled user tablespace: the server starts and serves; that table answers errors. Not a start failure.
const garbledIbd = [start(3), '2026-11-29 22:02:23 0 [ERROR] InnoDB: Inconsistent tablespace ID in ./t/x.ibd', '2026-11-29 22:02:23 0 [Note] mariadbd: ready for connections.'];
const diedOfPage = [...healthyRun, '2026-11-29 22:05:00 7 [ERROR] InnoDB: Database page corruption on disk or a failed read of file \'./conduit/users.ibd\' page [page id: space=5, page number=3]. You may have to recover from a backup.'];

const log = (...runs: string[][]) => runs.flat().join('\n') + '\n';

describe('corruptDataEvidence: the last run of mariadbd died of its data', () => {
  it('names the line for a garbled or truncated ibdata1, and a corrupt page that killed a running server', () => {
    expect(corruptDataEvidence(log(healthyRun, garbledIbdata))).toBe('[ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1');
    expect(corruptDataEvidence(log(healthyRun, truncatedIbdata))).toBe("[ERROR] InnoDB: The Auto-extending data file './ibdata1' is of a different size 0 pages than specified by innodb_data_file_path");
    expect(corruptDataEvidence(log(diedOfPage))).toMatch(/^\[ERROR\] InnoDB: Database page corruption on disk/);
  });
  it('drops the date before 10:00 too, when mariadbd pads the hour with a space', () => {
    const early = garbledIbdata.map((l) => l.replace('2026-11-29 22:', '2026-11-30  0:'));
    expect(corruptDataEvidence(log(early))).toBe('[ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1');
  });
  it('says nothing for a healthy run, a run that failed for another reason, or corruption in an earlier run only', () => {
    expect(corruptDataEvidence(log(healthyRun))).toBeNull();
    expect(corruptDataEvidence(log(portTaken))).toBeNull();
    expect(corruptDataEvidence(log(garbledIbd))).toBeNull();
    expect(corruptDataEvidence(log(garbledIbdata, healthyRun))).toBeNull();
    expect(corruptDataEvidence('')).toBeNull();
  });
});

describe('recloneDecision', () => {
  const topo = { primary: 'db-a', replicas: ['db-b', 'db-c'], updatedAt: '' };
  const corrupt = { systemTables: true, corruption: '[ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1' };
  it('keeps a usable data dir', () => {
    expect(recloneDecision('db-b', { systemTables: true, corruption: null }, topo, new Set(['db-a', 'db-c']))).toEqual({ kind: 'keep' });
  });
  it('re-clones a corrupt or missing replica from a running replica first, else from the primary', () => {
    expect(recloneDecision('db-b', corrupt, topo, new Set(['db-a', 'db-c']))).toEqual({
      kind: 'clone', source: 'db-c', why: 'its data dir is corrupt (mariadbd said: [ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1)',
    });
    expect(recloneDecision('db-b', { systemTables: false, corruption: null }, topo, new Set(['db-a']))).toEqual({ kind: 'clone', source: 'db-a', why: 'its data dir was unusable (no system tables)' });
  });
  it('re-clones a replica the failover controller asked for (its applier stopped on a data error), though its dir looks fine', () => {
    expect(recloneDecision('db-b', { systemTables: true, corruption: null, requested: 'its applier stopped on error 1062 12.0 s ago' }, topo, new Set(['db-a', 'db-c']))).toEqual({
      kind: 'clone', source: 'db-c', why: 'the failover controller asked for a new copy (its applier stopped on error 1062 12.0 s ago)',
    });
  });
  it('skips a replica whose applier stopped (its data may be what is wrong) as the source: the next replica, else the primary', () => {
    const three = { primary: 'db-a', replicas: ['db-b', 'db-c', 'db-d'], updatedAt: '' };
    expect(recloneDecision('db-b', corrupt, three, new Set(['db-a', 'db-c', 'db-d']), new Set(['db-c']))).toMatchObject({ kind: 'clone', source: 'db-d' });
    expect(recloneDecision('db-b', corrupt, topo, new Set(['db-a', 'db-c']), new Set(['db-c']))).toMatchObject({ kind: 'clone', source: 'db-a' });
  });
  it('never re-clones the node still named the primary (it may hold acknowledged writes alone), nor one with no source', () => {
    const r = recloneDecision('db-a', corrupt, topo, new Set(['db-b', 'db-c']));
    expect(r.kind).toBe('refuse');
    expect((r as { sentence: string }).sentence).toMatch(/^db-a: its data dir is corrupt .*, but it is still the primary \(no replica was promoted\), maybe the only node holding acknowledged writes: not re-cloning it; its data dir is kept/);
    expect(recloneDecision('db-b', corrupt, topo, new Set())).toEqual({ kind: 'refuse', sentence: 'db-b: its data dir is corrupt (mariadbd said: [ERROR] InnoDB: Inconsistent tablespace ID in ./ibdata1) and no other database node runs to re-clone it from; starting it as it is' });
  });
});
