import { describe, expect, it } from 'vitest';
import { readSupervisorLine, supervisorLevel, supervisorLogLine } from '../src/index.js';

describe("the supervisor's log lines (logs/supervisor.log)", () => {
  it('are JSON lines with the time, a level from the sentence and the sentence itself', () => {
    const at = new Date(Date.UTC(2026, 10, 29, 15, 0, 1, 250));
    const line = supervisorLogLine('api-1 (api, zone a) killed by SIGKILL: replacing it in 200 ms', at);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ time: '2026-11-29T15:00:01.250Z', level: 'warn', msg: 'api-1 (api, zone a) killed by SIGKILL: replacing it in 200 ms' });
    expect(supervisorLevel('db-failover: could not reach db-a')).toBe('error');
    expect(supervisorLevel('controller autoscaler loaded')).toBe('info');
    // A sentence with quotes and newlines stays one line.
    expect(supervisorLogLine('said "no"\nthen stopped', at).trimEnd().split('\n')).toHaveLength(1);
  });

  it('read back in both forms (JSON, and the ISO-prefixed text older regions wrote); anything else is null', () => {
    const at = Date.UTC(2026, 10, 29, 15, 0, 1, 250);
    expect(readSupervisorLine(supervisorLogLine('region ready', new Date(at)).trimEnd())).toEqual({ at, level: 'info', msg: 'region ready' });
    expect(readSupervisorLine('2026-11-29T15:00:01.250Z api-2 failed to start')).toEqual({ at, level: 'error', msg: 'api-2 failed to start' });
    expect(readSupervisorLine('    at Object.<anonymous> (daemon.ts:1:1)')).toBeNull();
    expect(readSupervisorLine('{"not":"ours"}')).toBeNull();
    expect(readSupervisorLine('{broken')).toBeNull();
  });
});
