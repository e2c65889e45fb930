// What every stack shares: the AWS provider with default tags, the S3 remote-state backend (native
// S3 locking, Terraform/OpenTofu >= 1.10), and the `domain` variable.
import type { Construct } from 'constructs';
import { S3Backend, TerraformVariable, type TerraformStack } from 'cdktn';
import { AwsProvider } from '@cdktn/provider-aws/lib/provider/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import type { AwsSettings } from '../settings.js';

export const tagsFor = (def: ResolvedDefinition, stack: string): Record<string, string> => ({
  Project: def.name,
  Stack: stack,
  ManagedBy: 'cdktn (packages/aws)',
});

export function awsProvider(scope: TerraformStack, def: ResolvedDefinition, stack: string, region: string): AwsProvider {
  // S3 native state locking (use_lockfile) needs 1.10: an older binary stops at init instead of running unlocked.
  scope.addOverride('terraform.required_version', '>= 1.10.0');
  return new AwsProvider(scope, 'aws', { region, defaultTags: [{ tags: tagsFor(def, stack) }] });
}

export function remoteState(scope: Construct, settings: AwsSettings, stack: string, primaryRegion: string): S3Backend {
  return new S3Backend(scope, { bucket: settings.stateBucket, key: `${stack}/terraform.tfstate`, region: primaryRegion, encrypt: true, useLockfile: true });
}

/** The public domain: a default from edge.domain, or required at plan time (-var domain=example.com). */
export function domainVariable(scope: Construct, def: ResolvedDefinition): string {
  const v = new TerraformVariable(scope, 'domain', {
    type: 'string',
    description: 'Public domain with a Route 53 hosted zone in this account (edge.domain in the definition).',
    ...(def.edge.domain ? { default: def.edge.domain } : {}),
  });
  return v.stringValue;
}
