// What `tier up` hands the supervisor: the resolved definition and where things go. The supervisor
// parses it again (the file on disk is input like any other) and runs on a frozen copy.
import { readFileSync } from 'node:fs';
import { definitionSchema, resolve, type ResolvedDefinition } from '@conduit/definition';

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

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
};

/**
 * Reads <stateDir>/config/plan.json, checks it and freezes it: the definition must be exactly what
 * resolve() makes of its own fields (schema, defaults, invariants and derived placements), so a
 * hand-edited or stale plan stops the supervisor with a message instead of starting a wrong region.
 */
export function readPlan(file: string): RegionPlan {
  let raw: Partial<RegionPlan>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<RegionPlan>;
  } catch (e) {
    throw new Error(`no readable plan in ${file} (${(e as Error).message}): start the region with \`tier up\``);
  }
  if (typeof raw.stateDir !== 'string' || typeof raw.varnishInTmp !== 'boolean' || typeof raw.configFile !== 'string' || typeof raw.definition !== 'object' || raw.definition === null) {
    throw new Error(`${file} is not a region plan (stateDir, varnishInTmp, configFile, definition): start the region with \`tier up\``);
  }
  const stored = raw.definition as unknown as Record<string, unknown>;
  const input = Object.fromEntries(Object.keys(definitionSchema.shape).filter((k) => k in stored).map((k) => [k, stored[k]]));
  const definition = resolve(input);
  if (JSON.stringify(definition) !== JSON.stringify(stored)) {
    throw new Error(`${file}: its definition differs from what resolve() derives from it (edited by hand?): start the region with \`tier up\``);
  }
  return deepFreeze({ definition, stateDir: raw.stateDir, varnishInTmp: raw.varnishInTmp, configFile: raw.configFile });
}
