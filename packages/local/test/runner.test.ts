// The runner's process handling on real processes: groups, SIGTERM then SIGKILL, leftovers.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnProcess, stopProcessGroup, isAlive, repoRoot, type ProcessSpec } from '../src/index.js';
import { join } from 'node:path';

const spec = (name: string, script: string): ProcessSpec => ({
  name, tier: 'api', zone: 'a', region: 'eu-west-1', host: '127.0.0.1', port: 1, command: 'sh', args: ['-c', script], env: {}, cwd: repoRoot,
  logFile: join(repoRoot, '.test-state', 'local-runner', `${name}.log`), restartPolicy: 'replace',
  probe: { kind: 'tcp' }, copyBeforeStart: [], stopGraceMs: 300, stage: 0,
});

afterAll(() => rmSync(join(repoRoot, '.test-state', 'local-runner'), { recursive: true, force: true }));

describe('stopProcessGroup', () => {
  it('ends a process group that honours SIGTERM without SIGKILL', async () => {
    const child = spawnProcess(spec('polite', 'sleep 30 & wait'));
    await new Promise((r) => setTimeout(r, 100));
    expect(await stopProcessGroup(child.pid!, 5_000)).toBe('terminated');
    expect(isAlive(child.pid!)).toBe(false);
  });

  it('SIGKILLs the whole group (children included) when SIGTERM is ignored past the grace time', async () => {
    const child = spawnProcess(spec('stubborn', 'trap "" TERM; sleep 30 & sleep 30 & wait'));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    expect(await stopProcessGroup(child.pid!, 300)).toBe('killed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    let groupAlive = true;
    try { process.kill(-child.pid!, 0); } catch { groupAlive = false; }
    expect(groupAlive).toBe(false);
  });
});
