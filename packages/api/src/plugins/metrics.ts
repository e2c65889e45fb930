// Prometheus metrics on GET /metrics: request count and latency by route template/method/status,
// database pool gauges, cache hit/miss/error counters and breaker state, Node default metrics.
// One registry per app (tests build many apps in one process).
import fp from 'fastify-plugin';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

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

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
type Labels = { method: string; route: string; status_code: string };
type Sample = { value: number; labels: Record<string, string | number>; metricName?: string; sharedLabels?: Labels };
interface Series {
  labels: Labels;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative), the last one past the largest bound (+Inf). */
  buckets: number[];
}

/**
 * `http_requests_total` (counter) and `http_request_duration_seconds` (histogram) by method, route template
 * and status. Counted in plain numbers per series (a Map lookup and three additions per request) and only
 * turned into prom-client's exposition when /metrics is scraped: prom-client's own Counter and Histogram
 * hash the label set and allocate on every inc/observe, about 0.8 us per request here. The output is the
 * same as theirs (label order included), through the registry's contract for a metric (name, help, type,
 * get()); the ops test reads it.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(registry: Registry) {
    const self = this;
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[]) => ({
      name, help, type, aggregator: 'sum',
      async get() { return { name, help, type, aggregator: 'sum', values: values().map(splay) }; },
      async getForPromString() { return { name, help, type, aggregator: 'sum', values: values() }; },
      reset() { self.series.clear(); },
    });
    registry.registerMetric(metric('http_requests_total', 'HTTP requests', 'counter', () =>
      [...this.series.values()].map((s) => ({ value: s.count, labels: s.labels }))) as unknown as Metric);
    registry.registerMetric(metric('http_request_duration_seconds', 'HTTP request latency', 'histogram', () => {
      const out: Sample[] = [];
      const name = 'http_request_duration_seconds';
      for (const s of this.series.values()) {
        let acc = 0;
        DURATION_BUCKETS.forEach((le, i) => {
          acc += s.buckets[i]!;
          out.push({ value: acc, labels: { le }, metricName: `${name}_bucket`, sharedLabels: s.labels });
        });
        out.push({ value: s.count, labels: { le: '+Inf' }, metricName: `${name}_bucket`, sharedLabels: s.labels });
        out.push({ value: s.sum, labels: {}, metricName: `${name}_sum`, sharedLabels: s.labels });
        out.push({ value: s.count, labels: {}, metricName: `${name}_count`, sharedLabels: s.labels });
      }
      return out;
    }) as unknown as Metric);
  }

  /** One finished request; `route` undefined: no route matched (404). */
  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    const r = route ?? 'unmatched';
    let s = this.series.get(`${method} ${status} ${r}`);
    if (s === undefined) {
      // Route templates, methods and statuses are few; past the cap (the unexpected) series share one.
      const full = this.series.size >= 2_000;
      const key = full ? 'overflow' : `${method} ${status} ${r}`;
      s = this.series.get(key);
      if (s === undefined) {
        const labels = full ? { method: 'other', route: 'overflow', status_code: 'other' } : { method, route: r, status_code: String(status) };
        s = { labels, count: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0) };
        this.series.set(key, s);
      }
    }
    s.count += 1;
    s.sum += seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    s.buckets[i]! += 1;
  }
}

/** The JSON form (registry.getMetricsAsJSON) has the series labels merged in, as prom-client's histogram does. */
function splay(v: Sample): Sample {
  const { sharedLabels, ...rest } = v;
  return sharedLabels ? { ...rest, labels: { ...v.labels, ...sharedLabels } } : v;
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

    const http = new RequestMetrics(registry);
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

    app.addHook('onResponse', (req, reply, done) => {
      http.observe(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });

    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
