// The production log writer: batched, asynchronous, bounded, flushed on a timer and at exit.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { BatchedWriter, LOG_FLUSH_MS, productionLogger } from '../src/logger.js';

const dirs: string[] = [];
function tempFd(): { fd: number; read: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'api-logger-'));
  dirs.push(dir);
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'a');
  return { fd, read: () => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('BatchedWriter', () => {
  it('holds lines until a batch is full, then writes them in order in one go', async () => {
    const { fd, read } = tempFd();
    const w = new BatchedWriter(fd, 100);
    w.write('a'.repeat(40) + '\n');
    w.write('b'.repeat(40) + '\n');
    await sleep(20);
    expect(read()).toEqual([]); // 82 chars: below the batch size
    w.write('c'.repeat(40) + '\n');
    await sleep(50);
    expect(read()).toEqual(['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)]);
    closeSync(fd);
  });

  it('keeps the order when lines arrive while a batch is being written', async () => {
    const { fd, read } = tempFd();
    const w = new BatchedWriter(fd, 64);
    for (let i = 0; i < 2_000; i++) w.write(`line ${i} ${'x'.repeat(20)}\n`);
    w.flush();
    await sleep(200);
    w.flush();
    await sleep(100);
    expect(read().map((l) => Number(l.split(' ')[1]))).toEqual([...Array(2_000).keys()]);
    closeSync(fd);
  });

  it('drops lines past maxChars, counts them and says so in the log', async () => {
    const { fd, read } = tempFd();
    const w = new BatchedWriter(fd, 1_000, 100);
    for (let i = 0; i < 10; i++) w.write(`${'z'.repeat(29)}\n`);
    expect(w.dropped).toBe(7); // 3 lines of 30 fit in 100
    w.flush();
    await sleep(50);
    const lines = read();
    expect(lines.filter((l) => l.startsWith('z'))).toHaveLength(3);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 40, dropped: 7, msg: expect.stringContaining('dropped') });
    closeSync(fd);
  });

  it('flushSync writes what is pending at once', () => {
    const { fd, read } = tempFd();
    const w = new BatchedWriter(fd);
    w.write('last words\n');
    w.flushSync();
    expect(read()).toEqual(['last words']);
    closeSync(fd);
  });
});

describe('productionLogger', () => {
  it('writes pino JSON lines within the flush interval, without blocking the caller', async () => {
    const { fd, read } = tempFd();
    const p = productionLogger({ level: 'info', base: { instance_id: 'api-t' } }, fd);
    const log = pino(p.options, p.options.stream);
    log.info({ reqId: 'r1' }, 'hello');
    log.debug('not at this level');
    expect(read()).toEqual([]);
    await sleep(LOG_FLUSH_MS * 2 + 50);
    const lines = read().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, instance_id: 'api-t', reqId: 'r1', msg: 'hello' });
    log.info('after close');
    p.close();
    expect(read().at(-1)).toContain('after close');
    closeSync(fd);
  });
});
