// The write ledger and the set checker, in the style of Jepsen's set checker.
// Every write carries a unique id and ends in exactly one of three states:
//   acknowledged  the server said it happened (2xx);
//   failed        it certainly did not happen (refused before it was sent, or a 4xx);
//   indeterminate we cannot know (timeout, connection lost after sending, 5xx from a proxy or the API).
// After the region has healed, one final read lists the ids that are present; checkSet() compares.

export type WriteOutcome = 'pending' | 'acknowledged' | 'failed' | 'indeterminate';

export interface WriteEntry {
  id: string;
  outcome: WriteOutcome;
  /** ms since the epoch when the write was sent and when its outcome was known. */
  sentAt: number;
  settledAt: number | null;
  /** Why it failed or is indeterminate: an HTTP status or an error kind. */
  detail: string | null;
}

/** Records writes as they are attempted and settled. Ids must be unique within one ledger. */
export class WriteLedger {
  private readonly entries = new Map<string, WriteEntry>();

  attempt(id: string, now = Date.now()): void {
    if (this.entries.has(id)) throw new Error(`write id ${id} attempted twice: ids must be unique`);
    this.entries.set(id, { id, outcome: 'pending', sentAt: now, settledAt: null, detail: null });
  }

  settle(id: string, outcome: Exclude<WriteOutcome, 'pending'>, detail: string | null = null, now = Date.now()): void {
    const e = this.entries.get(id);
    if (!e) throw new Error(`write id ${id} settled but never attempted`);
    if (e.outcome !== 'pending') throw new Error(`write id ${id} settled twice (${e.outcome}, then ${outcome})`);
    e.outcome = outcome;
    e.detail = detail;
    e.settledAt = now;
  }

  get(id: string): WriteEntry | undefined {
    return this.entries.get(id);
  }

  all(): WriteEntry[] {
    return [...this.entries.values()];
  }

  counts(): Record<WriteOutcome, number> {
    const c: Record<WriteOutcome, number> = { pending: 0, acknowledged: 0, failed: 0, indeterminate: 0 };
    for (const e of this.entries.values()) c[e.outcome]++;
    return c;
  }
}

export interface SetCheck {
  /** Writes attempted, by outcome (pending ones count as indeterminate: the client never learned). */
  attempted: number;
  acknowledged: number;
  failed: number;
  indeterminate: number;
  /** Acknowledged but missing from the final read: the checker fails. */
  lost: string[];
  /** Present but never attempted: the checker fails. */
  unexpected: string[];
  /** Indeterminate and present: fine, the write happened. */
  recovered: string[];
  /** Indeterminate and absent: fine, the write did not happen. */
  notRecovered: number;
  /** Reported as failed but present anyway (e.g. a 4xx that still committed): reported, not fatal. */
  failedButPresent: string[];
  /** Present more than once (a replayed non-idempotent request): reported, not fatal. */
  duplicated: string[];
  ok: boolean;
}

/**
 * Compares the ledger with the ids found by the final read (one entry per occurrence, so duplicates show).
 * ok = nothing lost and nothing unexpected.
 */
export function checkSet(entries: readonly WriteEntry[], observed: readonly string[]): SetCheck {
  const seen = new Map<string, number>();
  for (const id of observed) seen.set(id, (seen.get(id) ?? 0) + 1);
  const byId = new Map(entries.map((e) => [e.id, e]));

  const lost: string[] = [];
  const recovered: string[] = [];
  const failedButPresent: string[] = [];
  let notRecovered = 0;
  let acknowledged = 0;
  let failed = 0;
  let indeterminate = 0;
  for (const e of entries) {
    const present = seen.has(e.id);
    if (e.outcome === 'acknowledged') {
      acknowledged++;
      if (!present) lost.push(e.id);
    } else if (e.outcome === 'failed') {
      failed++;
      if (present) failedButPresent.push(e.id);
    } else {
      indeterminate++;
      if (present) recovered.push(e.id);
      else notRecovered++;
    }
  }
  const unexpected = [...seen.keys()].filter((id) => !byId.has(id));
  const duplicated = [...seen.entries()].filter(([id, n]) => n > 1 && byId.has(id)).map(([id]) => id);
  const sort = (xs: string[]) => xs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return {
    attempted: entries.length,
    acknowledged,
    failed,
    indeterminate,
    lost: sort(lost),
    unexpected: sort(unexpected),
    recovered: sort(recovered),
    notRecovered,
    failedButPresent: sort(failedButPresent),
    duplicated: sort(duplicated),
    ok: lost.length === 0 && unexpected.length === 0,
  };
}
