// Finds the controller modules that exist in this checkout and instantiates them.
// Today: db-failover.ts (owned by the drills engineer) when present, and the API autoscaler.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Controller, ControllerContext, ControllerFactory } from './types.js';

const modules = ['./db-failover.ts', './autoscaler.ts'];

export async function loadControllers(ctx: ControllerContext): Promise<Controller[]> {
  const out: Controller[] = [];
  for (const rel of modules) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(fileURLToPath(url))) continue;
    const mod = (await import(url.href)) as Record<string, unknown>;
    const factory = (mod.createController ?? mod.default) as ControllerFactory | undefined;
    if (typeof factory !== 'function') {
      ctx.log(`controller ${rel}: exports no createController(ctx) or default factory; skipped`);
      continue;
    }
    const c = await factory(ctx);
    out.push(c);
    ctx.log(`controller ${c.name} loaded from ${rel}`);
  }
  return out;
}

/** Calls each controller's tick every intervalMs, never overlapping; logs the sentences they return. */
export function runControllers(controllers: Controller[], log: (line: string) => void, intervalMs = 250): () => Promise<void> {
  let stopped = false;
  const loops = controllers.map(async (c) => {
    // The same failure every 250 ms is logged once, then once a minute while it lasts.
    let lastError = '';
    let lastErrorAt = 0;
    while (!stopped) {
      const started = Date.now();
      try {
        const said = await c.tick();
        if (said) log(`${c.name}: ${said}`);
        if (lastError) log(`${c.name}: ticking again after: ${lastError}`);
        lastError = '';
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== lastError || Date.now() - lastErrorAt > 60_000) {
          log(`${c.name}: tick failed: ${msg}`);
          lastErrorAt = Date.now();
        }
        lastError = msg;
      }
      const wait = Math.max(intervalMs - (Date.now() - started), 10);
      await new Promise((r) => setTimeout(r, wait));
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
    await Promise.all(controllers.map((c) => c.close?.()));
  };
}
