// A Secrets Manager secret whose value AWS generates once at the first apply (later plans keep it:
// `ignore_changes` on the value), encrypted with the region's key, optionally replicated to the peer region.
import { Construct } from 'constructs';
import { Fn } from 'cdktn';
import { SecretsmanagerSecret } from '@cdktn/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktn/provider-aws/lib/secretsmanager-secret-version/index.js';
import { DataAwsSecretsmanagerRandomPassword } from '@cdktn/provider-aws/lib/data-aws-secretsmanager-random-password/index.js';

export interface GeneratedSecretProps {
  name: string;
  description: string;
  kmsKeyId: string;
  /** Replicate to these regions with the same name (each reads its replica). */
  replicaRegions?: (string | null | undefined)[];
  length?: number;
  /** Store {username, password} as JSON (what RDS and its Data API read) instead of the bare value. */
  username?: string;
}

export class GeneratedSecret extends Construct {
  readonly secret: SecretsmanagerSecret;
  readonly version: SecretsmanagerSecretVersion;
  /** The generated value (a Terraform reference), also when the secret holds it inside JSON. */
  readonly password: string;
  constructor(scope: Construct, id: string, props: GeneratedSecretProps) {
    super(scope, id);
    const replicas = [...new Set((props.replicaRegions ?? []).filter((r): r is string => !!r))];
    this.secret = new SecretsmanagerSecret(this, 'secret', {
      name: props.name,
      description: props.description,
      kmsKeyId: props.kmsKeyId,
      recoveryWindowInDays: 7,
      ...(replicas.length ? { replica: replicas.map((region) => ({ region })) } : {}),
    });
    // Letters and digits only: the value goes into URLs and Redis AUTH without escaping.
    const random = new DataAwsSecretsmanagerRandomPassword(this, 'random', { passwordLength: props.length ?? 40, excludePunctuation: true });
    this.password = random.randomPassword;
    this.version = new SecretsmanagerSecretVersion(this, 'value', {
      secretId: this.secret.id,
      secretString: props.username ? Fn.jsonencode({ username: props.username, password: random.randomPassword }) : random.randomPassword,
      lifecycle: { ignoreChanges: ['secret_string'] },
    });
  }
}
