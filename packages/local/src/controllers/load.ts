// The supervisor's controllers (the DB failover controller and the API autoscaler), ticked every
// CONTROLLER_TICK_MS, never overlapping, each logging the sentence it returns.
import { createController as dbFailover } from './db-failover.js';
import { createController as autoscaler } from './autoscaler.js';
import type { Controller, ControllerContext } from './types.js';

/**
 * A fixed constant, not a definition field: it is how often a controller looks, not a policy. Every
 * policy it applies has its own field (database.failoverAfterMs, scaling.*); a tick must stay well below
 * the shortest of them (failoverAfterMs >= 200 ms) and cheap enough to run on a 2-core machine.
 */
export const CONTROLLER_TICK_MS = 250;

/** Starts every controller's loop; returns the function that stops them (and closes them). */
export function startControllers(ctx: ControllerContext, intervalMs = CONTROLLER_TICK_MS): () => Promise<void> {
  const controllers: Controller[] = [dbFailover(ctx), autoscaler(ctx)];
  for (const c of controllers) ctx.log(`controller ${c.name} loaded`);
  let stopped = false;
  const loops = controllers.map(async (c) => {
    // The same failure every tick is logged once, then once a minute while it lasts.
    let lastError = '';
    let lastErrorAt = 0;
    while (!stopped) {
      const started = Date.now();
      try {
        const said = await c.tick();
        if (said) ctx.log(`${c.name}: ${said}`);
        if (lastError) ctx.log(`${c.name}: ticking again after: ${lastError}`);
        lastError = '';
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== lastError || Date.now() - lastErrorAt > 60_000) {
          ctx.log(`${c.name}: tick failed: ${msg}`);
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
