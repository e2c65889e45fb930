// Log ingestion benchmark: writes N lines in the formats of the region's components into a throwaway logs
// folder, then times the tailer indexing them into a DuckDB file (the console's path). Prints lines/s next
// to two ceilings measured in the same run on the same files: reading + splitting only, and parsing only.
// Usage: node --import tsx packages/console/test/bench/ingest.ts [lines=200000]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from '@conduit/definition';
import { componentOf, LogIndex, LogTailer, parseLine } from '../../src/index.js';

const total = Number(process.argv[2] ?? 200_000);
const d = resolve({});
const dir = mkdtempSync(join(tmpdir(), 'console-bench-'));
const logs = join(dir, 'logs');
mkdirSync(logs);
const t0 = Date.UTC(2026, 10, 29, 12);
const pad = (n: number) => String(n).padStart(2, '0');
const hap = (t: number) => { const x = new Date(t); return `${pad(x.getDate())}/Nov/2026:${pad(x.getHours())}:${pad(x.getMinutes())}:${pad(x.getSeconds())}.${String(x.getMilliseconds()).padStart(3, '0')}`; };
const makers: Record<string, (i: number) => string> = {
  'api-1': (i) => JSON.stringify({ level: 30, time: t0 + i, pid: 1, instance: 'api-1', reqId: `r${i}`, req: { method: 'GET', url: `/api/articles?offset=${i % 50}` }, msg: 'incoming request' }),
  'api-2': (i) => JSON.stringify({ level: 30, time: t0 + i, pid: 2, instance: 'api-2', reqId: `r${i}`, res: { statusCode: i % 97 ? 200 : 500 }, responseTime: 2.1, msg: 'request completed' }),
  lb: (i) => `127.0.0.1:${40000 + (i % 20000)} [${hap(t0 + i)}] fe_api be_api/api-${1 + (i % 3)} 0/0/0/3/3 200 ${400 + (i % 300)} - - ---- 3/3/1/1/0 0/0 {r${i}} "GET /api/articles/slug-${i % 1000} HTTP/1.1"`,
  'db-a': (i) => `2026-11-29 12:${pad(Math.floor(i / 60000) % 60)}:${pad(Math.floor(i / 1000) % 60)} ${i} [Note] InnoDB: Buffer pool(s) load completed at 261129 12:00:01`,
  'redis-1': (i) => `8308:M 29 Nov 2026 12:00:${pad(Math.floor(i / 1000) % 60)}.${String(i % 1000).padStart(3, '0')} * Background saving started by pid ${i}`,
  supervisor: (i) => `${new Date(t0 + i).toISOString()} autoscaler: kept api at 3 instances: 120 rps per instance, target 400`,
};
const names = Object.keys(makers);
const per = Math.ceil(total / names.length);
for (const n of names) writeFileSync(join(logs, `${n}.log`), Array.from({ length: per }, (_, i) => makers[n]!(i)).join('\n') + '\n');
const lines = per * names.length;
const mb = readdirSync(logs).reduce((s, f) => s + readFileSync(join(logs, f)).length, 0) / 1e6;

const time = async (f: () => unknown | Promise<unknown>) => { const s = performance.now(); await f(); return (performance.now() - s) / 1000; };
const readSplit = await time(() => { for (const f of readdirSync(logs)) readFileSync(join(logs, f), 'utf8').split('\n'); });
const parseOnly = await time(() => {
  for (const f of readdirSync(logs)) {
    const inst = f.replace(/\.log$/, '');
    for (const l of readFileSync(join(logs, f), 'utf8').split('\n')) if (l) parseLine(componentOf(inst, d), inst, l, t0);
  }
});
const index = await LogIndex.open(join(dir, 'index.duckdb'));
const tailer = new LogTailer(index, logs, (n) => componentOf(n, d));
let indexed = 0;
const ingest = await time(async () => { indexed = await tailer.drain(); });
const search = await time(() => index.search({ from: t0, to: t0 + per, requestId: `r${per - 7}` }));
const text = await time(() => index.search({ from: t0, to: t0 + per, text: 'slug-99 ' }));
const rss = process.memoryUsage().rss / 1e6;
index.close();
rmSync(dir, { recursive: true, force: true });

const rate = (s: number) => `${Math.round(lines / s).toLocaleString('en')} lines/s`;
console.log(`log ingestion: ${lines.toLocaleString('en')} lines (${mb.toFixed(1)} MB, ${names.length} formats), indexed ${indexed.toLocaleString('en')}`);
console.log(`  tailer → DuckDB (parse + append + offsets): ${ingest.toFixed(2)} s = ${rate(ingest)}   (target >= 5,000 lines/s)`);
console.log(`  ceiling, parse only:                        ${parseOnly.toFixed(2)} s = ${rate(parseOnly)}`);
console.log(`  ceiling, read + split only:                 ${readSplit.toFixed(2)} s = ${rate(readSplit)}`);
console.log(`  search by request id: ${(search * 1000).toFixed(0)} ms; free-text search: ${(text * 1000).toFixed(0)} ms (over ${indexed.toLocaleString('en')} lines)`);
console.log(`  process RSS after the run: ${rss.toFixed(0)} MB`);
if (indexed !== lines) { console.error(`indexed ${indexed} of ${lines} lines`); process.exit(1); }
