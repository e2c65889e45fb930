// The supervisor's controllers (the DB failover controller and the API autoscaler), ticked every
// CONTROLLER_TICK_MS, never overlapping, each logging the sentence it returns.
import { createController as dbFailover } from './db-failover.js';
import { createController as autoscaler } from './autoscaler.js';
import { createController as regionFailover } from './region-failover.js';
import { controllerJournal, type JournalEntry } from '../journal.js';
import type { Controller, ControllerContext } from './types.js';

/**
 * A fixed constant, not a definition field: it is how often a controller looks, not a policy. Every
 * policy it applies has its own field (database.failoverAfterMs, scaling.*); a tick must stay well below
 * the shortest of them (failoverAfterMs >= 200 ms) and cheap enough to run on a 2-core machine.
 */
export const CONTROLLER_TICK_MS = 250;

const all = { 'db-failover': dbFailover, autoscaler, 'region-failover': regionFailover } as const;

export interface StartOptions {
  /** Journal entries a crashed supervisor left open: each goes to its controller's resume() before its ticks, until it says what came of it; then the entry is closed. */
  interrupted?: JournalEntry[];
  intervalMs?: number;
  /** Which controllers run (default: all; a test of one controller runs only it). */
  only?: (keyof typeof all)[];
}

/** Starts every controller's loop; returns the function that stops them (and closes them). */
export function startControllers(base: Omit<ControllerContext, 'journal'>, o: StartOptions = {}): () => Promise<void> {
  const interrupted = o.interrupted ?? [];
  const intervalMs = o.intervalMs ?? CONTROLLER_TICK_MS;
  const controllers = (o.only ?? (Object.keys(all) as (keyof typeof all)[])).map((name) => {
    const create = all[name];
    const journal = controllerJournal(base.paths.actionJournal, name);
    return { c: create({ ...base, journal }) as Controller, journal };
  });
  for (const { c } of controllers) base.log(`controller ${c.name} loaded`);
  let stopped = false;
  const loops = controllers.map(async ({ c, journal }) => {
    // The same failure every tick is logged once, then once a minute while it lasts.
    let lastError = '';
    let lastErrorAt = 0;
    let pending = interrupted.filter((e) => e.controller === c.name);
    while (!stopped) {
      const started = Date.now();
      try {
        for (const e of pending) {
          const outcome = c.resume ? await c.resume(e) : 'closed: the controller re-reads the state every tick';
          if (outcome === null) continue;
          journal.close(e.id, `resumed by supervisor ${process.pid}: ${outcome}`);
          base.log(`${c.name}: interrupted ${e.action} ${JSON.stringify(e.detail)}: ${outcome}`);
          pending = pending.filter((p) => p !== e);
        }
        const said = await c.tick();
        if (said) base.log(`${c.name}: ${said}`);
        if (lastError) base.log(`${c.name}: ticking again after: ${lastError}`);
        lastError = '';
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== lastError || Date.now() - lastErrorAt > 60_000) {
          base.log(`${c.name}: tick failed: ${msg}`);
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
    await Promise.all(controllers.map(({ c }) => c.close?.()));
  };
}
