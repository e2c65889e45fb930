// Builds every stack of a definition into an App, and synthesizes them to Terraform JSON.
//   <name>-state         bootstrap: the remote state bucket (local state), applied once, first
//   <name>-<primary>     the primary region (owns the Aurora Global Database)
//   <name>-<secondary>   the secondary region (joins it); absent for a single-region definition
//   <name>-edge          CloudFront + WAF + the apex record, in us-east-1
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { firstDeployScript } from './first-deploy.js';
import { join } from 'node:path';
import { App, Aspects, TerraformResource, type TerraformStack } from 'cdktn';
import type { IConstruct } from 'constructs';
import type { ResolvedDefinition } from '@conduit/definition';
import { awsSettings, definitionFor, type AwsSettings } from './settings.js';
import { StateStack } from './stacks/state-stack.js';
import { RegionStack } from './stacks/region-stack.js';
import { EdgeStack } from './stacks/edge-stack.js';

/**
 * A targeted override: for a Terraform resource type, a function that adjusts each resource of that
 * type after it is built, e.g. `{ aws_rds_cluster: (r) => r.addOverride('backtrack_window', 3600) }`.
 * It is how a deployment sets what the definition has no field for (and how the insecure fixture breaks rules).
 */
export type Transform = Record<string, (resource: TerraformResource) => void>;

export interface AwsOptions {
  transform?: Transform;
  /** Name of the remote state bucket (S3 names are global). default: <name>-tfstate-<primary region> */
  stateBucket?: string;
}

/** Terraform/OpenTofu versions the output targets: S3 native state locking needs 1.10. */
export const APP_CONTEXT = { targetVersions: { terraform: '>=1.10.0', opentofu: '>=1.10.0' } };

export interface BuiltStacks {
  settings: AwsSettings;
  stacks: TerraformStack[];
}

export function buildStacks(app: App, def: ResolvedDefinition, options: AwsOptions = {}): BuiltStacks {
  const settings = awsSettings(def, { stateBucket: options.stateBucket });
  const stacks: TerraformStack[] = [new StateStack(app, settings.stackNames.state, def, settings)];
  // The secondary's stack is sized by regions.secondaryScale (definitionFor).
  settings.regions.forEach((plan, i) => stacks.push(new RegionStack(app, settings.stackNames.regions[i]!, definitionFor(def, plan), settings, plan)));
  stacks.push(new EdgeStack(app, settings.stackNames.edge, def, settings));
  const transform = options.transform;
  if (transform && Object.keys(transform).length > 0) {
    for (const stack of stacks) {
      Aspects.of(stack).add({
        visit(node: IConstruct) {
          if (node instanceof TerraformResource) transform[node.terraformResourceType]?.(node);
        },
      });
    }
  }
  return { settings, stacks };
}

export interface SynthSummary {
  outdir: string;
  /** stack name → number of resources (data sources excluded), in apply order. */
  resources: Record<string, number>;
  durationMs: number;
}

/**
 * Writes <outdir>/stacks/<stack>/cdk.tf.json for every stack and returns a summary. It never deletes anything:
 * the bootstrap stack keeps its local state (terraform.tfstate) in its folder, and terraform/tofu keep
 * .terraform/ and the lock file beside each cdk.tf.json. A folder of a stack the definition no longer has is
 * left alone (stackDirs() skips it).
 */
export function synthesize(def: ResolvedDefinition, outdir: string, options: AwsOptions = {}): SynthSummary {
  const started = performance.now();
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir, context: APP_CONTEXT, skipValidation: false });
  const { stacks, settings } = buildStacks(app, def, options);
  app.synth();
  writeFileSync(join(outdir, 'first-deploy.sh'), firstDeployScript(def, settings), { mode: 0o755 });
  const resources: Record<string, number> = {};
  for (const stack of stacks) {
    const name = stack.node.id;
    const json = JSON.parse(readFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8')) as { resource?: Record<string, Record<string, unknown>> };
    resources[name] = countResources(json);
  }
  return { outdir, resources, durationMs: performance.now() - started };
}

export function countResources(json: { resource?: Record<string, Record<string, unknown>> }): number {
  return Object.values(json.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
}

/** Stack folders in apply order, as written by synthesize(). */
export function stackDirs(outdir: string, order: string[]): string[] {
  const present = new Set(readdirSync(join(outdir, 'stacks')));
  return order.filter((s) => present.has(s)).map((s) => join(outdir, 'stacks', s));
}
