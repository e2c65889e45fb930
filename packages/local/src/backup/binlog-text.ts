// The text mariadb-binlog prints (run with TZ=UTC), cut into transactions by their GTID event, and
// GTID positions. Pure: the archiver records each segment's range and times from it; a restore keeps
// the transactions after the full backup's position and up to the target time or GTID.
//
//   header (SET …, DELIMITER, format description)   ← kept
//   # at 368
//   #261129 18:32:13 server id 7  end_log_pos 885 …  GTID 0-7-4 trans   ← one transaction from here
//   … BINLOG '…' … COMMIT /*!*/;
//   # at 582
//   #261129 18:32:13 server id 7 … GTID 0-7-5 trans                    ← the next one

/** One domain's position: the definition's database runs one GTID domain (0). */
export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

export function parseGtid(s: string): Gtid | null {
  const t = s.trim();
  if (t === '') return null;
  const parts = t.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length !== 1) throw new Error(`GTID position "${s}" has ${parts.length} domains; backups support one GTID domain`);
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(parts[0]!);
  if (!m) throw new Error(`"${s}" is not a GTID (domain-server-seq)`);
  return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
}
export const formatGtid = (g: Gtid | null) => (g ? `${g.domain}-${g.server}-${g.seq}` : '');
export const seqOf = (s: string) => parseGtid(s)?.seq ?? 0;

export interface Transaction {
  gtid: Gtid;
  /** The GTID event's timestamp (UTC), epoch ms. */
  at: number;
  text: string;
}

export interface BinlogText {
  header: string;
  transactions: Transaction[];
}

const GTID_EVENT = /^#(\d{2})(\d{2})(\d{2}) +(\d{1,2}):(\d{2}):(\d{2}) server id \d+ .*\tGTID (\d+)-(\d+)-(\d+)\b/;
const AT = /^# at \d+$/;

export function splitTransactions(text: string): BinlogText {
  const lines = text.split('\n');
  const starts: Array<{ line: number; gtid: Gtid; at: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = GTID_EVENT.exec(lines[i]!);
    if (!m) continue;
    const at = Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    // A transaction starts at the "# at N" line before its GTID event.
    const start = i > 0 && AT.test(lines[i - 1]!) ? i - 1 : i;
    starts.push({ line: start, gtid: { domain: Number(m[7]), server: Number(m[8]), seq: Number(m[9]) }, at });
  }
  const header = lines.slice(0, starts[0]?.line ?? lines.length).join('\n');
  const transactions = starts.map((s, k) => ({
    gtid: s.gtid,
    at: s.at,
    text: lines.slice(s.line, starts[k + 1]?.line ?? lines.length).join('\n'),
  }));
  return { header, transactions };
}

export interface SliceBounds {
  /** Keep transactions with seq > afterSeq (the full backup's position). */
  afterSeq: number;
  /** Stop before the first transaction stamped after this time (epoch ms, whole seconds). */
  untilMs?: number;
  /** Stop after this seq (a GTID target). */
  untilSeq?: number;
}

/** The SQL to replay: the header, then the transactions inside the bounds, in order. */
export function sliceTransactions(b: BinlogText, bounds: SliceBounds): { sql: string; kept: Transaction[]; stopped: boolean } {
  const kept: Transaction[] = [];
  let stopped = false;
  for (const t of b.transactions) {
    if (t.gtid.seq <= bounds.afterSeq) continue;
    if ((bounds.untilMs !== undefined && t.at > bounds.untilMs) || (bounds.untilSeq !== undefined && t.gtid.seq > bounds.untilSeq)) {
      stopped = true;
      break;
    }
    kept.push(t);
  }
  // The last transaction of a whole segment carries mariadb-binlog's footer (DELIMITER ;, ROLLBACK);
  // a cut one does not: end the delimiter block so the client applies the last statement.
  const last = kept.at(-1);
  if (!last) return { sql: '', kept, stopped };
  const tail = /\nDELIMITER ;/.test(last.text) ? '\n' : '\nDELIMITER ;\n';
  return { sql: [b.header, ...kept.map((t) => t.text)].join('\n') + tail, kept, stopped };
}
