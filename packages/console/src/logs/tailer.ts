// Follows every log file of the region (logs/*.log, logs/*.jsonl) and feeds new lines to the index. Each
// file's read position is kept in the index, so a restarted console neither loses nor repeats lines; a file
// that shrank or was replaced (rotation, `tier destroy`) is read again from its start.
//
// It also bounds the files (observability.logFileMaxMb): once a file is indexed to its end and has reached
// the size, it is copied to <name>.1 (replacing the previous copy) and truncated. Every writer opened its
// log with O_APPEND (the supervisor, nginx), so its next line lands at the new start; a line written
// between the last size check and the truncation is lost (a window of microseconds).
import { closeSync, copyFileSync, openSync, readdirSync, readSync, statSync, truncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LogIndex } from './index-db.js';
import { parseLine, type Component, type LogRow } from './parse.js';

/** At most this much of one file per poll: memory stays bounded while a backlog is read. */
const CHUNK = 4 * 1024 * 1024;

export interface PollResult { lines: number; files: number }

export class LogTailer {
  private positions: Map<string, { ino: number; pos: number }> | null = null;

  constructor(
    private readonly index: LogIndex,
    private readonly logsDir: string,
    private readonly componentOf: (instance: string) => Component,
    /** Rotate a file once it has reached this size (bytes); Infinity: never. */
    private readonly rotateAtBytes = Infinity,
  ) {}

  /** Reads what was appended since the last poll (up to CHUNK per file) and indexes it. */
  async poll(now = Date.now()): Promise<PollResult> {
    this.positions ??= await this.index.offsets();
    let names: string[];
    try {
      names = readdirSync(this.logsDir).filter((n) => n.endsWith('.log') || n.endsWith('.jsonl'));
    } catch {
      return { lines: 0, files: 0 };
    }
    let lines = 0;
    let files = 0;
    for (const name of names) {
      const path = join(this.logsDir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      const prev = this.positions.get(path);
      const start = prev && prev.ino === st.ino && prev.pos <= st.size ? prev.pos : 0;
      if (start === st.size) continue;
      const length = Math.min(st.size - start, CHUNK);
      const buf = Buffer.alloc(length);
      const fd = openSync(path, 'r');
      let read: number;
      try {
        read = readSync(fd, buf, 0, length, start);
      } finally {
        closeSync(fd);
      }
      // Only whole lines; a partial last line waits for its newline (unless one line fills the chunk).
      let end = buf.lastIndexOf(10, read - 1) + 1;
      if (end === 0 && read === CHUNK) end = read;
      if (end === 0) continue;
      const instance = basename(name).replace(/\.(log|jsonl)$/, '');
      const component = this.componentOf(instance);
      const rows: LogRow[] = [];
      for (const line of buf.toString('utf8', 0, end).split('\n')) {
        const text = line.trimEnd();
        if (text.length > 0) rows.push(parseLine(component, instance, text.length > 8192 ? text.slice(0, 8192) : text, now));
      }
      await this.index.append(rows);
      const pos = start + end;
      this.positions.set(path, { ino: st.ino, pos });
      await this.index.saveOffset(path, st.ino, pos);
      lines += rows.length;
      files += 1;
      if (pos >= this.rotateAtBytes && pos === st.size) await this.rotate(path, pos);
    }
    return { lines, files };
  }

  private async rotate(path: string, indexedTo: number): Promise<void> {
    copyFileSync(path, `${path}.1`);
    const now = statSync(path);
    if (now.size !== indexedTo) return; // written to meanwhile: the next poll reads it, and rotates then
    truncateSync(path, 0);
    this.positions!.set(path, { ino: now.ino, pos: 0 });
    await this.index.saveOffset(path, now.ino, 0);
  }

  /** Polls until nothing new is left (a backlog bigger than one chunk per file takes several). */
  async drain(now = Date.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await this.poll(now);
      total += r.lines;
      if (r.files === 0) return total;
    }
  }
}
