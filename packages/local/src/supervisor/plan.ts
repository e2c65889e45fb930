// What `tier up` hands the supervisor: the resolved definition and where things go.
import type { ResolvedDefinition } from '@conduit/definition';

export interface RegionPlan {
  definition: ResolvedDefinition;
  stateDir: string;
  /** The Varnish work dir is in /tmp because the state folder is not traversable by other users. */
  varnishInTmp: boolean;
  /** The definition file, for messages. */
  configFile: string;
}

/** Messages from the supervisor to the `tier up` that started it (over the IPC channel). */
export type SupervisorMessage =
  | { type: 'progress'; line: string }
  | { type: 'ready'; seconds: number }
  | { type: 'failed'; error: string };

/** Requests on the supervisor's control socket (one JSON object per line, one answer per line). */
export type ControlRequest =
  | { op: 'list' }
  | { op: 'start'; name: string }
  | { op: 'stop'; name: string }
  | { op: 'forget'; name: string };

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };
