// The contract between the supervisor and a controller (the DB failover controller, the autoscaler).
// Controllers are ticks: each tick re-reads the observed state, decides with a pure function, acts
// through the runner, and returns one sentence saying what it did and why (or null when nothing).
import type { ResolvedDefinition } from '@conduit/definition';
import type { StatePaths } from '../paths.js';
import type { ProcessRecord, ProcessSpec, RegionSecrets } from '../types.js';

/** What the supervisor offers a controller. */
export interface ControllerContext {
  definition: ResolvedDefinition;
  stateDir: string;
  paths: StatePaths;
  secrets: RegionSecrets;
  /** Appends a line to logs/supervisor.log. */
  log(line: string): void;
  /** The supervised processes right now. */
  processes(): ProcessRecord[];
  /** Starts a process by name: a known one (e.g. a stopped db node) or a spare api-N/front-N slot. */
  start(name: string): Promise<number>;
  /** Stops a process on purpose (no replacement). */
  stop(name: string): Promise<string>;
  /** Forgets a stopped process (an instance removed by the autoscaler), so status no longer lists it. */
  forget(name: string): void;
  /** The spec the supervisor would run for a name (to inspect ports, sockets, args). */
  specFor(name: string): ProcessSpec | undefined;
}

export interface Controller {
  name: string;
  /** Called every CONTROLLER_TICK_MS, never concurrently with itself. Returns a sentence when it acted. */
  tick(): Promise<string | null | undefined | void>;
  /** Optional: called once when the region stops. */
  close?(): Promise<void> | void;
}
