// The contract between the supervisor and a controller (the DB failover controller, the autoscaler).
// Controllers are ticks: each tick re-reads the observed state, decides with a pure function, acts
// through the runner, and returns one sentence saying what it did and why (or null when nothing).
import type { ResolvedDefinition } from '@conduit/definition';
import type { StatePaths } from '../paths.js';
import type { ControllerJournal, JournalEntry } from '../journal.js';
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
  /** This controller's entries in the action journal: open one before an action, close it after. */
  journal: ControllerJournal;
}

export interface Controller {
  name: string;
  /** Called every CONTROLLER_TICK_MS, never concurrently with itself. Returns a sentence when it acted. */
  tick(): Promise<string | null | undefined | void>;
  /**
   * An action of this controller that a crash interrupted (its journal entry is still open), called before
   * each tick until it returns what came of it: finish or undo the action (or see that the ticks did), then
   * say how in one sentence; null to be asked again next tick. Without it, the entry is closed at once
   * (the controller's ticks re-read the state and converge by themselves).
   */
  resume?(entry: JournalEntry): Promise<string | null>;
  /** Optional: called once when the region stops. */
  close?(): Promise<void> | void;
}
