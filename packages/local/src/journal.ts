// The controllers' action journal (<stateDir>/journal.jsonl): an entry is opened before an action that
// changes the region (a promotion, a scale-in drain…) and closed after it, as JSON lines. An entry still
// open when a supervisor starts was interrupted by a crash: the controller that opened it finishes or
// undoes it on its next ticks (Controller.resume), `tier status` shows it until then.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from './state.js';

export interface JournalEntry {
  id: string;
  controller: string;
  action: string;
  /** What the controller needs to finish or undo it (e.g. {instances: ["api-3"]}). */
  detail: Record<string, unknown>;
  openedAt: string;
  /** The supervisor pid that opened it. */
  pid: number;
}

type Line =
  | ({ op: 'open' } & JournalEntry)
  | { op: 'close'; id: string; at: string; outcome: string };

function readLines(file: string): Line[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Line[] = [];
  for (const l of text.split('\n')) {
    if (!l) continue;
    try { out.push(JSON.parse(l) as Line); } catch { /* a line cut by a crash: ignored */ }
  }
  return out;
}

/** Entries opened and never closed, oldest first. */
export function openEntries(file: string): JournalEntry[] {
  const open = new Map<string, JournalEntry>();
  for (const l of readLines(file)) {
    if (l.op === 'open') {
      const { op: _op, ...entry } = l;
      open.set(l.id, entry);
    } else if (l.op === 'close') open.delete(l.id);
  }
  return [...open.values()];
}

/** Bounded: past this many lines the supervisor keeps the open entries and the latest closed ones. */
const MAX_LINES = 2_000;

/** Rewrites the journal when it grew past MAX_LINES (at supervisor start, and every few hundred appends). */
export function compactJournal(file: string): void {
  const lines = readLines(file);
  if (lines.length <= MAX_LINES) return;
  const open = new Set(openEntries(file).map((e) => e.id));
  const keep = lines.filter((l, i) => open.has(l.id) || i >= lines.length - MAX_LINES / 2);
  writeFileAtomic(file, keep.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** One controller's handle on the journal. */
export interface ControllerJournal {
  /** Opens an entry before the action; returns its id. */
  open(action: string, detail: Record<string, unknown>): string;
  /** Closes it after the action, with what came of it. */
  close(id: string, outcome: string): void;
}

export function controllerJournal(file: string, controller: string): ControllerJournal {
  // A crash in the middle of a write leaves half a line: the next line must not be glued to it.
  try {
    const text = readFileSync(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(file, '\n');
  } catch { /* no journal yet */ }
  let appended = 0;
  const append = (l: Line) => {
    mkdirSync(dirname(file), { recursive: true });
    // appendFileSync: the line is in the kernel's page cache when it returns, so a SIGKILL right after keeps it.
    appendFileSync(file, JSON.stringify(l) + '\n');
    // A decision that keeps failing opens and closes an entry on every attempt: keep the file bounded.
    if (++appended % (MAX_LINES / 4) === 0) compactJournal(file);
  };
  return {
    open(action, detail) {
      const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      append({ op: 'open', id, controller, action, detail, openedAt: new Date().toISOString(), pid: process.pid });
      return id;
    },
    close(id, outcome) {
      append({ op: 'close', id, at: new Date().toISOString(), outcome });
    },
  };
}
