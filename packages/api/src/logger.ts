// Production logging: pino JSON lines on stdout (journald on AWS, the supervisor's log file locally),
// written asynchronously and in batches so that logging never blocks a request on a write(2):
// - lines collect in memory and go out in one write when 32 KiB are pending, or every 250 ms;
// - at most 8 MiB wait in memory (a stalled stdout drops lines, counted, rather than growing the process);
// - on exit (also process.exit) what is pending is written synchronously.
// Not pino.destination({ minLength }): sonic-boom measures the whole pending batch (Buffer.byteLength)
// on every line, which made each line cost in proportion to the batch (about 10 us per line here).
// One access log line per request (method, url, route, status, time, client address) replaces Fastify's
// two per-request lines ("incoming request" + "request completed").
import { write, writeSync } from 'node:fs';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream, LoggerOptions } from 'pino';

export const LOG_FLUSH_MS = 250;

/** A file descriptor written in batches: O(1) per line, one write(2) per batch from libuv's pool. */
export class BatchedWriter implements DestinationStream {
  private chunks: string[] = [];
  private pending = 0;
  private writing = false;
  /** Lines dropped because more than maxChars were waiting, or because the descriptor failed. */
  dropped = 0;
  private reported = 0;

  constructor(
    private readonly fd: number,
    private readonly batchChars = 32 * 1024,
    private readonly maxChars = 8 * 1024 * 1024,
  ) {}

  write(line: string): boolean {
    if (this.pending + line.length > this.maxChars) {
      this.dropped++;
      return false;
    }
    this.chunks.push(line);
    this.pending += line.length;
    if (this.pending >= this.batchChars) this.flush();
    return true;
  }

  /** Starts writing what is pending (unless a write is in flight: it continues when that one ends). */
  flush(): void {
    if (this.writing || this.chunks.length === 0) return;
    if (this.dropped > this.reported) {
      // Said in the log itself, once per batch: lines are missing here, and how many.
      this.chunks.push(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, dropped: this.dropped - this.reported, msg: 'log lines dropped: stdout could not keep up' })}\n`);
      this.reported = this.dropped;
    }
    const lines = this.chunks.length;
    const buf = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.pending = 0;
    this.writing = true;
    const from = (offset: number): void => {
      write(this.fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err?.code === 'EAGAIN') return void setTimeout(() => from(offset), 10);
        if (err) {
          this.dropped += lines;
        } else if (offset + n < buf.length) {
          return from(offset + n);
        }
        this.writing = false;
        if (this.pending >= this.batchChars) this.flush();
      });
    };
    from(0);
  }

  /** Writes what is pending now, synchronously (at exit). */
  flushSync(): void {
    if (this.chunks.length === 0) return;
    const buf = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.pending = 0;
    try {
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    } catch {
      // stdout is gone: nothing left to tell it
    }
  }
}

export interface ProductionLogger {
  options: LoggerOptions & { stream: DestinationStream };
  /** Stops the periodic flush and writes what is pending (on close; later lines are written at exit). */
  close(): void;
}

export function productionLogger(opts: { level: string; base: Record<string, unknown> }, fd = 1): ProductionLogger {
  const stream = new BatchedWriter(fd);
  // A quiet instance must not keep its last lines in memory: flush on a timer (it does not keep the process alive).
  const timer = setInterval(() => stream.flush(), LOG_FLUSH_MS);
  timer.unref();
  // Also after close: the last lines (shutdown) are written at exit.
  process.on('exit', () => stream.flushSync());
  return {
    options: {
      level: opts.level,
      base: opts.base,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      stream,
    },
    close: () => {
      clearInterval(timer);
      stream.flushSync();
    },
  };
}

/**
 * The access log: Fastify's request logging with one line per request, written when the response is
 * finished (with the request's reqId): method, url, route template, status, time in ms, client address.
 */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: req.method,
      url: req.url,
      route: req.routeOptions.url,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
      ip: req.ip,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
