import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSupervisorLine, rotateLogs, supervisorLevel, supervisorLogLine } from '../src/index.js';

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

describe('log rotation without the console (rotateLogs)', () => {
  it('copies a file at the limit to <name>.1 and truncates it; an O_APPEND writer goes on at the start; smaller files and copies stay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-'));
    try {
      const big = join(dir, 'api-1.log');
      const fd = openSync(big, 'a');
      writeSync(fd, 'a'.repeat(1000));
      writeFileSync(join(dir, 'small.log'), 'b'.repeat(10));
      writeFileSync(join(dir, 'old.log.1'), 'c'.repeat(5000));
      expect(rotateLogs(dir, 1000)).toEqual(['api-1.log']);
      expect(statSync(big).size).toBe(0);
      expect(readFileSync(`${big}.1`, 'utf8')).toBe('a'.repeat(1000));
      writeSync(fd, 'next line\n');
      closeSync(fd);
      expect(readFileSync(big, 'utf8')).toBe('next line\n'); // no hole of 1000 zero bytes before it
      expect(statSync(join(dir, 'small.log')).size).toBe(10);
      expect(statSync(join(dir, 'old.log.1')).size).toBe(5000);
      expect(rotateLogs(join(dir, 'missing'), 1000)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
