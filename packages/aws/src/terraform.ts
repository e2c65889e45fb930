// terraform/tofu invocations as data: which binary, and for each stack folder in apply order the
// argument lists to run. Only the CLI's runner spawns them.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface TerraformBinary {
  name: 'terraform' | 'tofu';
  path: string;
}

export interface TerraformStep {
  /** Stack folder the command runs in. */
  cwd: string;
  argv: string[];
}

/** The first of `terraform`, `tofu` found on PATH, or null. */
export function findTerraformBinary(pathEnv: string | undefined = process.env.PATH): TerraformBinary | null {
  for (const name of ['terraform', 'tofu'] as const) {
    for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return { name, path };
      } catch {
        // not here
      }
    }
  }
  return null;
}

export const MISSING_BINARY =
  'neither terraform nor tofu is on PATH: install OpenTofu >= 1.10 (https://opentofu.org/docs/intro/install/) or Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install), then run the command again';

export interface TerraformCommandOptions {
  /** -var domain=… when the definition has no edge.domain. */
  domain?: string | undefined;
  /** -var release_version=… for the region stacks (the release their launch templates install). */
  releaseVersion?: string | undefined;
  /** apply without terraform's interactive approval. */
  autoApprove?: boolean;
}

/** init + plan (or apply) for every stack folder, in order: state, primary, secondary, edge. */
export function terraformCommands(action: 'plan' | 'apply', binary: TerraformBinary, stackDirs: string[], options: TerraformCommandOptions = {}): TerraformStep[] {
  const region = (dir: string) => !dir.endsWith('-state') && !dir.endsWith('-edge');
  const vars = (dir: string) => [
    ...(options.domain && !dir.endsWith('-state') ? ['-var', `domain=${options.domain}`] : []),
    ...(options.releaseVersion && region(dir) ? ['-var', `release_version=${options.releaseVersion}`] : []),
  ];
  return stackDirs.flatMap((cwd) => [
    { cwd, argv: [binary.path, 'init', '-input=false'] },
    action === 'plan'
      ? { cwd, argv: [binary.path, 'plan', '-input=false', ...vars(cwd)] }
      : { cwd, argv: [binary.path, 'apply', '-input=false', ...(options.autoApprove ? ['-auto-approve'] : []), ...vars(cwd)] },
  ]);
}
