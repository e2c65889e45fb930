// The console's HTTP app: the page and its local assets, the live topology (SVG), the region status, panel
// data, log search, and the Alertmanager webhook. Built here, listened on by main.ts (loopback only).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { observabilityPanels, type ResolvedDefinition } from '@conduit/definition';
import type { RegionStatus } from '@conduit/local/console-reads';
import { LiveTopology, type TopologyGraph, type TopologyLayout } from '../topology/index.js';
import { LogQueryError, type LogHit, type LogQuery, type LogSearchResult } from '../logs/index-db.js';
import { levels } from '../logs/parse.js';
import { webhookSchema, type AlertStore } from './alerts.js';
import { prometheusPanel, stepFor, type PanelData } from './metrics.js';

/** What the app asks of the log index: a LogIndex in this process, or the log worker's client (main.ts). */
export interface LogSearch {
  search(q: LogQuery): Promise<LogSearchResult>;
  decisions(from: number, to: number): Promise<LogHit[]>;
}

export interface ConsoleDeps {
  definition: ResolvedDefinition;
  index: LogSearch;
  /** How the topology is laid out (default: ELK in this process). */
  layout?: (g: TopologyGraph) => Promise<TopologyLayout>;
  /** The page's folder (default: packages/console/public, next to these sources). */
  publicDir?: string;
  alerts: AlertStore;
  /** The latest `tier status` the sampler took (null until the first one). */
  status: () => RegionStatus | null;
  /** The Prometheus exposition of the console's own samples (per-process CPU/RSS, replica lag). */
  metrics: () => string;
  prometheusUrl: string;
}

const sourcePublicDir = join(dirname(fileURLToPath(import.meta.url)), '../../public');
const assetFiles = (publicDir: string, uplotDir: string): Record<string, { file: string; type: string }> => ({
  '/': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/assets/console.js': { file: join(publicDir, 'console.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/console.css': { file: join(publicDir, 'console.css'), type: 'text/css; charset=utf-8' },
  '/assets/uPlot.iife.min.js': { file: join(uplotDir, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/uPlot.min.css': { file: join(uplotDir, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
});

const epoch = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime().transform((s) => Date.parse(s))]);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const logQuerySchema = z.strictObject({
  from: epoch.optional(),
  to: epoch.optional(),
  component: list.optional(),
  instance: z.string().max(100).optional(),
  level: z.enum(levels).optional(),
  status: z.string().max(3).optional(),
  route: z.string().max(200).optional(),
  requestId: z.string().max(128).optional(),
  text: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(2000).optional(),
  buckets: z.coerce.number().int().min(1).max(500).optional(),
});
const panelQuerySchema = z.strictObject({ range: z.coerce.number().int().min(60).max(7 * 86_400).default(900) });

/** The RealWorld error shape the API uses, so one client handles both. */
const badRequest = (reply: FastifyReply, field: string, message: string) => reply.code(400).send({ errors: { [field]: [message] } });
const zodErrors = (e: z.ZodError) => {
  const errors: Record<string, string[]> = {};
  for (const i of e.issues) (errors[i.path.join('.') || 'query'] ??= []).push(i.message);
  return { errors };
};

export function buildConsole(deps: ConsoleDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  const panels = observabilityPanels(deps.definition);
  const topology = new LiveTopology(deps.definition, deps.layout);
  const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
  const assets = assetFiles(deps.publicDir ?? sourcePublicDir, uplotDir);

  app.addHook('onSend', async (_req, reply) => {
    // Everything is served from here: no script, style or font from anywhere else.
    reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    reply.header('x-content-type-options', 'nosniff');
  });

  for (const [path, a] of Object.entries(assets)) {
    const body = readFileSync(a.file);
    app.get(path, async (_req, reply) => reply.type(a.type).header('cache-control', 'no-cache').send(body));
  }
  app.get('/health', async () => ({ ok: true }));
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(deps.metrics()));

  app.get('/api/status', async (_req, reply) => {
    const s = deps.status();
    if (!s) return reply.code(503).send({ errors: { status: ['not sampled yet: retry in a few seconds'] } });
    return s;
  });

  app.get('/api/topology.svg', async (_req, reply) => {
    const s = deps.status();
    const svg = await topology.render(s ? { processes: s.processes, topology: s.topology } : undefined);
    return reply.type('image/svg+xml').header('cache-control', 'no-store').send(svg);
  });

  app.get('/api/panels', async () => panels.map(({ id, title, unit, threshold }) => ({ id, title, unit, threshold })));

  app.get<{ Params: { id: string } }>('/api/panels/:id', async (req, reply) => {
    const panel = panels.find((p) => p.id === req.params.id);
    if (!panel) return reply.code(404).send({ errors: { panel: [`no panel "${req.params.id}": GET /api/panels lists them`] } });
    const q = panelQuerySchema.safeParse(req.query);
    if (!q.success) return reply.code(400).send(zodErrors(q.error));
    const end = Math.floor(Date.now() / 1000);
    const start = end - q.data.range;
    const local = panel.local;
    if (local.kind === 'none') return { id: panel.id, times: [], series: [], error: `AWS only: ${local.why}` } satisfies PanelData;
    return prometheusPanel({ ...panel, local }, deps.prometheusUrl, { start, end, step: stepFor(q.data.range, deps.definition.observability.scrapeIntervalSeconds) });
  });

  app.get('/api/logs', async (req, reply) => {
    const q = logQuerySchema.safeParse(req.query);
    if (!q.success) return reply.code(400).send(zodErrors(q.error));
    const { component, level, ...rest } = q.data;
    try {
      return await deps.index.search({ ...rest, ...(component ? { components: component } : {}), ...(level ? { minLevel: level } : {}) });
    } catch (e) {
      if (e instanceof LogQueryError) return badRequest(reply, 'query', e.message);
      throw e;
    }
  });

  app.get('/api/decisions', async (req, reply) => {
    const q = panelQuerySchema.safeParse(req.query);
    if (!q.success) return reply.code(400).send(zodErrors(q.error));
    const to = Date.now();
    return deps.index.decisions(to - q.data.range * 1000, to);
  });

  app.get('/api/alerts', async () => deps.alerts.list());
  app.post('/api/alerts', async (req, reply) => {
    const w = webhookSchema.safeParse(req.body);
    if (!w.success) return reply.code(400).send(zodErrors(w.error));
    deps.alerts.receive(w.data);
    return reply.code(204).send();
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (code >= 500) process.stderr.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: err.stack ?? err.message })}\n`);
    // Client mistakes (bad JSON, wrong content type) keep their message; server errors are masked.
    return reply.code(code).send({ errors: { [code < 500 ? 'request' : 'server']: [code < 500 ? err.message : 'internal error: see logs/console.log'] } });
  });
  return app;
}
