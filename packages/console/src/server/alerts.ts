// Alerts as Alertmanager delivers them (webhook, JSON): each alert by fingerprint with its timeline of
// firing/resolved notifications. Every notification is also appended to logs/alerts.jsonl, so the list
// survives a console restart and alerts are searchable beside the logs.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const webhookSchema = z.object({
  version: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(z.object({
    status: z.enum(['firing', 'resolved']),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).default({}),
    startsAt: z.string(),
    endsAt: z.string().optional(),
    fingerprint: z.string().min(1),
  })).max(1000),
});
export type Webhook = z.infer<typeof webhookSchema>;

export interface AlertEntry {
  fingerprint: string;
  name: string;
  severity: string;
  summary: string;
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt: string | null;
  timeline: Array<{ at: string; status: 'firing' | 'resolved' }>;
}

export class AlertStore {
  private readonly alerts = new Map<string, AlertEntry>();

  constructor(private readonly journal: string | null) {
    if (journal && existsSync(journal)) {
      for (const line of readFileSync(journal, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          this.apply(JSON.parse(line) as Webhook['alerts'][number] & { at: string });
        } catch {
          // A torn last line (crash mid-write) is skipped; the next notification repeats the state.
        }
      }
    }
  }

  receive(w: Webhook, now = new Date()): void {
    for (const a of w.alerts) {
      const at = now.toISOString();
      const record = { ...a, at, msg: `alert ${a.labels.alertname ?? '?'} ${a.status}: ${a.annotations.summary ?? ''}`.trim(), level: a.status === 'firing' ? 'warn' : 'info' };
      if (this.journal) appendFileSync(this.journal, JSON.stringify(record) + '\n');
      this.apply(record);
    }
  }

  private apply(a: Webhook['alerts'][number] & { at: string }): void {
    const prev = this.alerts.get(a.fingerprint);
    const last = prev?.timeline.at(-1);
    const timeline = prev?.timeline ?? [];
    // Alertmanager repeats a firing alert every repeat_interval: only changes go on the timeline.
    if (!last || last.status !== a.status) timeline.push({ at: a.at, status: a.status });
    this.alerts.set(a.fingerprint, {
      fingerprint: a.fingerprint,
      name: a.labels.alertname ?? '(unnamed)',
      severity: a.labels.severity ?? 'none',
      summary: a.annotations?.summary ?? '',
      labels: a.labels,
      status: a.status,
      startsAt: a.startsAt,
      endsAt: a.status === 'resolved' && a.endsAt ? a.endsAt : null,
      timeline,
    });
  }

  /** Firing first, then the most recent change first. */
  list(): AlertEntry[] {
    return [...this.alerts.values()].sort((x, y) =>
      (x.status === 'firing' ? 0 : 1) - (y.status === 'firing' ? 0 : 1) || (y.timeline.at(-1)?.at ?? '').localeCompare(x.timeline.at(-1)?.at ?? ''));
  }
}
