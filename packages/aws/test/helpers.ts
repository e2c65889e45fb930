// Synthesizes a definition in memory, once per test file, with validations on (Testing.synth(stack, true)).
import { Testing } from 'cdktn';
import { resolve, type DefinitionInput, type ResolvedDefinition } from '@conduit/definition';
import { APP_CONTEXT, buildStacks, type AwsOptions } from '../src/app.js';
import type { RuleContext, SynthJson } from '../src/policy/rules.js';
import minimal from '../../../examples/minimal.config.ts';
import complete from '../../../examples/complete.config.ts';
import singleRegion from '../../../examples/single-region.config.ts';

export const examples: Record<string, DefinitionInput> = { minimal, complete, 'single-region': singleRegion };

export interface Synthesized {
  def: ResolvedDefinition;
  /** stack name → synthesized JSON, in apply order. */
  stacks: Record<string, SynthJson>;
  ctx: RuleContext;
}

export function synthDefinition(input: DefinitionInput, options: AwsOptions = {}): Synthesized {
  const def = resolve(input);
  const app = Testing.app({ context: APP_CONTEXT });
  const { stacks } = buildStacks(app, def, options);
  const out: Record<string, SynthJson> = {};
  for (const stack of stacks) out[stack.node.id] = JSON.parse(Testing.synth(stack, true)) as SynthJson;
  return { def, stacks: out, ctx: ruleContext(def) };
}

export const ruleContext = (def: ResolvedDefinition): RuleContext => ({
  zones: def.zones,
  multiRegion: def.regions.secondary !== null,
  copyBackups: def.backup.copyToSecondary && def.regions.secondary !== null,
});

/** Every resource of a type in a stack, as [name, config]. */
export function all(json: SynthJson, type: string): [string, Record<string, any>][] {
  return Object.entries(json.resource?.[type] ?? {}) as [string, Record<string, any>][];
}

/** The single resource of a type whose name contains `part`. */
export function one(json: SynthJson, type: string, part = ''): Record<string, any> {
  const found = all(json, type).filter(([name]) => name.includes(part));
  if (found.length !== 1) throw new Error(`expected one ${type} matching "${part}", found ${found.map(([n]) => n).join(', ') || 'none'}`);
  return found[0]![1];
}
