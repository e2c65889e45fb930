// The log index's process: `node logs-worker.mjs <stateDir>`, forked by the console with an IPC channel.
// DuckDB lives here and nowhere else (~50 MB RSS once its library is loaded): the console starts this
// worker to index what logs/ gained and to answer searches, and ends it when idle (worker-client.ts), so
// the library's memory goes back with the process. It exits when the channel closes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statePaths, type RegionPlan } from '@conduit/local/console-reads';
import { LogIndex, LogQueryError, type LogQuery } from './index-db.js';
import { LogTailer } from './tailer.js';
import { componentOf } from './parse.js';
import type { WorkerReply, WorkerRequest } from './worker-client.js';

const paths = statePaths(process.argv[2]!);
let d: RegionPlan['definition'];
try {
  d = (JSON.parse(readFileSync(paths.plan, 'utf8')) as RegionPlan).definition;
} catch (e) {
  process.stderr.write(`log worker: cannot read the plan ${paths.plan} (${(e as Error).message}): start the region with \`tier up\`\n`);
  process.exit(1);
}
const index = await LogIndex.open(join(paths.data, 'console', 'logs.duckdb'));
const tailer = new LogTailer(index, paths.logs, (n) => componentOf(n, d), d.observability.logFileMaxMb * 1024 * 1024);

/** Decisions the console keeps in memory between ingests: the last 7 days (the charts' longest range). */
const DECISIONS_MS = 7 * 86_400_000;

async function handle(r: WorkerRequest): Promise<unknown> {
  switch (r.op) {
    case 'ingest': {
      const lines = await tailer.drain();
      const now = Date.now();
      return { lines, decisions: await index.decisions(now - DECISIONS_MS, now + 60_000, 500) };
    }
    case 'search':
      // Search what is written up to now: the index catches up first.
      await tailer.drain();
      return index.search(r.query as LogQuery);
    case 'prune':
      return index.prune(r.retentionDays);
  }
}

// One request at a time: the client sends the next after the reply.
process.on('message', (r: WorkerRequest) => {
  handle(r).then(
    (result) => process.send!({ id: r.id, ok: true, result } satisfies WorkerReply),
    (e: Error) => process.send!({ id: r.id, ok: false, error: e.message, query: e instanceof LogQueryError } satisfies WorkerReply),
  );
});
process.on('disconnect', () => {
  index.close();
  process.exit(0);
});
process.send!({ id: 0, ok: true, result: 'ready' } satisfies WorkerReply);

