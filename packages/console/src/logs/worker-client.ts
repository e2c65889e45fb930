// The console's side of the log worker (worker.ts): starts it on the first request, sends one request at a
// time, and ends it once it has been idle for the request's `lingerMs` (an ingest: at once; a search: a
// while, as an operator searching tends to search again). A worker that dies fails its request; the next
// request starts a new one, after the old one has exited (DuckDB allows one process per index file).
import { fork, type ChildProcess } from 'node:child_process';
import { LogQueryError, type LogHit, type LogQuery, type LogSearchResult } from './index-db.js';

export type WorkerRequest =
  | { id: number; op: 'ingest' }
  | { id: number; op: 'search'; query: LogQuery }
  | { id: number; op: 'prune'; retentionDays: number };
export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; query: boolean };
type Op = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface IngestResult { lines: number; decisions: LogHit[] }

export class LogWorkerClient {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private queue: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | null = null;
  private nextId = 1;
  /** Workers started so far (the test counts them). */
  started = 0;

  constructor(
    private readonly entry: string,
    private readonly args: readonly string[],
    private readonly execArgv: readonly string[] = [],
  ) {}

  ingest(): Promise<IngestResult> {
    return this.request({ op: 'ingest' }, 0) as Promise<IngestResult>;
  }

  search(query: LogQuery): Promise<LogSearchResult> {
    return this.request({ op: 'search', query }, 30_000) as Promise<LogSearchResult>;
  }

  prune(retentionDays: number): Promise<number> {
    return this.request({ op: 'prune', retentionDays }, 0) as Promise<number>;
  }

  /** Whether a worker runs now. */
  get running(): boolean {
    return this.child !== null;
  }

  /** Ends the worker (if any) and waits for it to exit. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.stopChild();
    await this.exited;
  }

  private request(op: Op, lingerMs: number): Promise<unknown> {
    const run = this.queue.catch(() => undefined).then(() => this.send(op, lingerMs));
    this.queue = run;
    return run;
  }

  private async send(op: Op, lingerMs: number): Promise<unknown> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const child = this.child ?? (await this.start());
    const id = this.nextId++;
    try {
      return await new Promise((resolve, reject) => {
        const onMessage = (m: WorkerReply) => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (m.ok) resolve(m.result);
          else reject(m.query ? new LogQueryError(m.error) : new Error(`log worker: ${m.error}`));
        };
        const onExit = (code: number | null, signal: string | null) => {
          child.off('message', onMessage);
          reject(new Error(`log worker exited (${signal ?? `code ${code}`}) during ${op.op}`));
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ ...op, id } as WorkerRequest);
      });
    } finally {
      if (this.child === child) {
        if (lingerMs <= 0) this.stopChild();
        else this.idle = setTimeout(() => this.stopChild(), lingerMs).unref();
      }
    }
  }

  private async start(): Promise<ChildProcess> {
    await this.exited;
    const child = fork(this.entry, [...this.args], { execArgv: [...this.execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.started += 1;
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => {
      if (this.child === child) this.child = null;
      resolve();
    }));
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`log worker exited (code ${code}) while starting: see logs/console.log`));
      child.once('exit', onExit);
      child.once('message', () => {
        child.off('exit', onExit);
        resolve();
      });
    });
    return child;
  }

  private stopChild(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const child = this.child;
    if (!child) return;
    this.child = null;
    // The worker closes the index and exits when its channel closes.
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  }
}
