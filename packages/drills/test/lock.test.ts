import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { takeDrillLock } from '../src/drill.js';

// The repository's own .test-state (git-ignored), wherever the checkout is.
const dir = fileURLToPath(new URL('../../../.test-state/drills-lock-test', import.meta.url));

describe('drill lock', () => {
  it('lets one drill at a time run against a region, and takes over a stale lock', () => {
    rmSync(dir, { recursive: true, force: true });
    const release = takeDrillLock(dir);
    expect(() => takeDrillLock(dir)).toThrow(/another drill \(pid \d+\) is running/);
    release();
    expect(existsSync(join(dir, 'drills', '.lock'))).toBe(false);
    mkdirSync(join(dir, 'drills'), { recursive: true });
    writeFileSync(join(dir, 'drills', '.lock'), '999999999\n');
    const again = takeDrillLock(dir);
    again();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('process identity', () => {
  it('signals only a pid that still runs the recorded command', async () => {
    const { spawn } = await import('node:child_process');
    const { isOurProcess: runsRecordedCommand } = await import('@conduit/local');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    expect(runsRecordedCommand({ pid: child.pid!, command: ['sleep', '30'] })).toBe(true);
    expect(runsRecordedCommand({ pid: child.pid!, command: ['mariadbd', '--defaults-file=x.cnf'] })).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(runsRecordedCommand({ pid: child.pid!, command: ['sleep', '30'] })).toBe(false);
    expect(runsRecordedCommand({ pid: null, command: ['sleep'] })).toBe(false);
  });
});
