// Prometheus metrics on GET /metrics: request count and latency by route template/method/status,
// database pool gauges, cache hit/miss/error counters and breaker state, Node default metrics.
// One registry per app (tests build many apps in one process).
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  cacheOps: Counter<'result'>;
  cacheBreaker: Gauge;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface MetricsPluginOptions {
  instanceId: string | null;
  zone: string | null;
}

export default fp<MetricsPluginOptions>(
  async (app, opts) => {
    const registry = new Registry();
    const labels: Record<string, string> = {};
    if (opts.instanceId) labels.instance_id = opts.instanceId;
    if (opts.zone) labels.zone = opts.zone;
    registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: registry });

    const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const cacheOps = new Counter({ name: 'cache_operations_total', help: 'Cache lookups by result (hit, miss, error)', labelNames: ['result'], registers: [registry] });
    for (const result of ['hit', 'miss', 'error']) cacheOps.inc({ result }, 0);
    const cacheBreaker = new Gauge({ name: 'cache_circuit_open', help: '1 while the cache circuit breaker is open', registers: [registry] });
    cacheBreaker.set(0);
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by pool (writer, reader) and state (total, free, queued requests)',
      labelNames: ['pool', 'state'],
      registers: [registry],
      collect() {
        if (!app.hasDecorator('db')) return;
        for (const pool of ['writer', 'reader'] as const) {
          const s = app.db.poolStats(pool);
          this.set({ pool, state: 'total' }, s.total);
          this.set({ pool, state: 'free' }, s.free);
          this.set({ pool, state: 'queued' }, s.queued);
        }
      },
    });

    new Gauge({
      name: 'db_statement_retries',
      help: 'Statements retried during a database failover, by outcome (recovered: answered after a retry; exhausted: failed once the retry budget was spent)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        if (!app.hasDecorator('db')) return;
        for (const outcome of ['recovered', 'exhausted'] as const) this.set({ outcome }, app.db.retries[outcome]);
      },
    });

    new Counter({
      name: 'db_writes_settled_total',
      help: 'Writes whose COMMIT went unanswered (primary lost, connection reset), by how the API settled them (committed: its write mark was on the writer, answered as a success; rerun: it was not, run again; unsettled: no writer within the retry budget, 503)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        if (!app.hasDecorator('db')) return;
        // the counts live in the Db (it has no registry); a counter's value is set by reset + inc
        this.reset();
        for (const outcome of ['committed', 'rerun', 'unsettled'] as const) this.inc({ outcome }, app.db.settled[outcome]);
      },
    });

    app.decorate('metrics', { registry, cacheOps, cacheBreaker });

    // The series of a (method, route, status) are looked up once and kept: prom-client would otherwise
    // hash the label set twice per request. Route templates, methods and statuses are few; the cap
    // only guards against the unexpected (past it, series are looked up per request as before).
    const series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const key = `${req.method} ${reply.statusCode} ${route}`;
      let s = series.get(key);
      if (s === undefined) {
        const l = { method: req.method, route, status_code: String(reply.statusCode) };
        s = { count: requests.labels(l), time: duration.labels(l) };
        if (series.size < 2_000) series.set(key, s);
      }
      s.count.inc();
      s.time.observe(reply.elapsedTime / 1000);
      done();
    });

    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
