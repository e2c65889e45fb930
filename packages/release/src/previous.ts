// The previous release, rebuilt from git, for the expand/contract check: a deploy runs the new migrations
// while the previous release still serves (the rolling window, and after a rollback), so the previous
// release's API must keep working on the schema the new migrations leave. This module finds that release
// (HEAD~1 by default: deploy.yml releases every push to main), extracts its tree from git and builds its
// artifacts with its own `tier release`, so the bundle is the one that shipped, not today's sources.
// Dependencies come from this checkout's node_modules (the tree sits inside it; its own workspace packages
// are linked in its node_modules): a release that also changed a third-party dependency is built with today's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class PreviousReleaseError extends Error {}

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });

/**
 * The commit of the previous release: `ref` resolved in `cwd`'s repository. A shallow clone without that
 * commit gets an error saying how to fetch the history; a repository whose first commit is HEAD gets null.
 */
export function previousCommit(cwd: string, ref = 'HEAD~1'): string | null {
  const r = git(cwd, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  if (r.status === 0) return r.stdout.trim();
  if (git(cwd, 'rev-parse', '--is-shallow-repository').stdout.trim() === 'true') {
    throw new PreviousReleaseError(
      `the previous release ${ref} is not in this clone: it is shallow (git clone --depth, or actions/checkout without fetch-depth: 0); fetch the history (git fetch --unshallow) to run the expand/contract check`,
    );
  }
  if (ref === 'HEAD~1' && git(cwd, 'rev-list', '--count', 'HEAD').stdout.trim() === '1') return null;
  throw new PreviousReleaseError(`${ref} names no commit of this repository: set PREVIOUS_RELEASE to a commit or tag`);
}

/**
 * Extracts `commit`'s tree into `dir` (git archive: exactly what was committed) and links its workspace
 * packages into dir/node_modules, so its imports of @conduit/* resolve to its own packages.
 */
export function extractTree(repo: string, commit: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('bash', ['-o', 'pipefail', '-c', `git archive --format=tar ${commit} | tar -x -C "${dir}"`], { cwd: repo, encoding: 'utf8' });
  if (archive.status !== 0) throw new PreviousReleaseError(`git archive ${commit} failed: ${archive.stderr.trim()}`);
  const workspaces = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { workspaces?: string[] }).workspaces ?? [];
  for (const ws of workspaces) {
    const manifest = join(dir, ws, 'package.json');
    if (!existsSync(manifest)) continue;
    const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(dir, ws), link, 'dir');
  }
}

/**
 * Builds the extracted tree's release with its own CLI (`tier release --out`), the interface every release
 * since the first has; returns the folder holding api/ and front/. A tree without `tier release` is named.
 */
export function buildTreeRelease(dir: string, outDir: string, version: string): string {
  const cli = join(dir, 'packages', 'cli', 'bin', 'tier.mjs');
  if (!existsSync(cli)) throw new PreviousReleaseError(`the previous release (${version}) has no tier CLI: it predates releases, nothing to check against`);
  // The tree has no .git of its own: stop git at it, or the build would record the checkout's commit (and
  // "dirty") as the previous release's version; it records "unknown" instead, and the caller knows the commit.
  const env = { ...process.env, FORCE_COLOR: '0', GIT_CEILING_DIRECTORIES: dirname(dir) };
  const r = spawnSync(process.execPath, [cli, 'release', '--out', outDir], { cwd: dir, encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) throw new PreviousReleaseError(`building the previous release ${version} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return outDir;
}
