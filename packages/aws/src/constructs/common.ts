// What every regional construct receives: the resolved definition, the AWS settings derived from it,
// this region's plan, the account id (a token) and the region's customer-managed KMS key.
import type { ResolvedDefinition } from '@conduit/definition';
import type { KmsKey } from '@cdktn/provider-aws/lib/kms-key/index.js';
import type { AwsSettings, RegionPlan } from '../settings.js';

export interface RegionContext {
  def: ResolvedDefinition;
  settings: AwsSettings;
  plan: RegionPlan;
  accountId: string;
  /** The customer-managed key that encrypts this region's data (database, cache, secrets, logs, backups, search). */
  key: KmsKey;
  /** The public domain: the definition's edge.domain or the value of the Terraform variable `domain`. */
  domain: string;
  /** Common tags (the provider also applies them as default tags). */
  tags: Record<string, string>;
}

/** An IAM policy document as a JSON string (tokens inside resolve to Terraform interpolations). */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Principal?: Record<string, string | string[]> | '*';
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export const policyJson = (...statements: Statement[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

export const assumeRolePolicy = (service: string): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
