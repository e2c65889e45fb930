// The releases a region runs, as an AWS instance gets them: `tier release` artifacts (built once per
// source version into out/releases/<version>, shared by the state folders of this checkout), unpacked
// into <state>/releases/<version>/{api,front} after checking every file against release.json's sha256.
// Also: which version new instances run (current.json, the launch template's version), and the
// release history (history.jsonl: one line per `tier up`/`deploy`/`rollback`).
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import { buildRelease, gitVersion, type Manifest, type ReleaseFault } from '@conduit/release';
import { nginxConf } from './generators/nginx.js';
import { nginxConfFile, releaseBuildsDir, releaseDir, releaseTierDir, repoRoot, type StatePaths } from './paths.js';
import { runOnceSync } from './runner/index.js';
import { readJson, writeFileAtomic } from './state.js';

type Paths = Pick<StatePaths, 'releases' | 'currentRelease' | 'releaseHistory' | 'data' | 'run' | 'logs'>;

/** What <state>/releases/<version>/release.json says about an installed release. */
export interface InstalledRelease {
  version: string;
  /** The git commit it was built from (the version without its -dirty/-fault suffixes). */
  commit: string;
  builtAt: string;
  /** How long the build took, when this checkout built it (null: installed from an existing build). */
  buildSeconds: number | null;
  /** sha256 of each artifact (api/current.tar.gz, front/current.tar.gz). */
  sha256: { api: string; front: string };
  fault: ReleaseFault | null;
  installedAt: string;
}

/** One line of history.jsonl. */
export interface HistoryEntry {
  version: string;
  commit: string;
  builtAt: string;
  sha256: { api: string; front: string };
  action: 'up' | 'deploy' | 'rollback';
  /** Who ran it (OS user) and when it finished. */
  by: string;
  at: string;
  /** ok, or what failed and what was done about it. */
  result: string;
  /** The version the region ran before (deploy/rollback). */
  from?: string | null;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * The version of the sources in this checkout: the git commit, and for a tree with uncommitted changes
 * `<commit>-dirty-<hash of the changes>`, so an edited tree never reuses a stale build.
 */
export function sourceVersion(cwd = repoRoot): string {
  const v = gitVersion(cwd);
  if (!v.endsWith('-dirty')) return v;
  const git = (...args: string[]) => runOnceSync('git', args, { cwd });
  const h = createHash('sha256').update(git('diff', 'HEAD')).update(git('ls-files', '--others', '--exclude-standard'));
  for (const f of git('ls-files', '--others', '--exclude-standard').split('\n').filter(Boolean)) {
    try { h.update(readFileSync(join(cwd, f))); } catch { /* vanished */ }
  }
  return `${v}-${h.digest('hex').slice(0, 10)}`;
}

export const faultVersion = (base: string, fault?: ReleaseFault) => (fault ? `${base}-fault-${fault}` : base);

export const installedRelease = (paths: Pick<StatePaths, 'releases'>, version: string) =>
  readJson<InstalledRelease>(join(releaseDir(paths, version), 'release.json'));

/** Installed releases, oldest install first. */
export function installedReleases(paths: Pick<StatePaths, 'releases'>): InstalledRelease[] {
  if (!existsSync(paths.releases)) return [];
  return readdirSync(paths.releases, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => installedRelease(paths, e.name))
    .filter((r): r is InstalledRelease => r !== null)
    .sort((a, b) => a.installedAt.localeCompare(b.installedAt));
}

/** The version new instances run, or null before the first `tier up`. */
export const currentVersion = (paths: Pick<StatePaths, 'currentRelease'>) => readJson<{ version: string }>(paths.currentRelease)?.version ?? null;
export const setCurrentVersion = (paths: Pick<StatePaths, 'currentRelease'>, version: string) =>
  writeFileAtomic(paths.currentRelease, JSON.stringify({ version, since: new Date().toISOString() }, null, 2) + '\n');

export function readHistory(paths: Pick<StatePaths, 'releaseHistory'>): HistoryEntry[] {
  try {
    return readFileSync(paths.releaseHistory, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEntry);
  } catch {
    return [];
  }
}

export function recordHistory(paths: Paths, release: InstalledRelease, action: HistoryEntry['action'], result: string, from?: string | null): HistoryEntry {
  const e: HistoryEntry = {
    version: release.version, commit: release.commit, builtAt: release.builtAt, sha256: release.sha256, action,
    by: userInfo().username, at: new Date().toISOString(), result, ...(from !== undefined ? { from } : {}),
  };
  mkdirSync(paths.releases, { recursive: true });
  appendFileSync(paths.releaseHistory, JSON.stringify(e) + '\n');
  return e;
}

/** Unpacks one artifact into dir and checks every file against its release.json (as the AWS boot script does). */
function unpack(tarball: string, dir: string): Manifest {
  mkdirSync(dir, { recursive: true });
  runOnceSync('tar', ['-xzf', tarball, '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')) as Manifest;
  for (const f of manifest.files) {
    if (sha256(join(dir, f.path)) !== f.sha256) throw new Error(`${tarball}: ${f.path} does not match the sha256 in its release.json`);
  }
  return manifest;
}

export interface EnsureOptions {
  /** An exact version (must be built or installed already); default: the sources' version. */
  version?: string;
  /** Test releases only: bundle this fault (drills). */
  fault?: ReleaseFault;
  /** Test releases only: label a second build of the same sources (`<version>-<variant>`). */
  variant?: string;
  progress?: (line: string) => void;
}

/**
 * The installed release for `version` (default: the sources of this checkout): installed already, or
 * unpacked from out/releases/<version>, or built there first (`tier release`, ~4 s) when it does not exist.
 */
export async function ensureRelease(d: ResolvedDefinition, paths: Paths, o: EnsureOptions = {}): Promise<InstalledRelease> {
  const say = o.progress ?? (() => undefined);
  const version = o.version ?? faultVersion(sourceVersion(), o.fault) + (o.variant ? `-${o.variant}` : '');
  const have = installedRelease(paths, version);
  if (have) return have;
  const build = join(releaseBuildsDir, version);
  const tarballs = { api: join(build, 'api', 'current.tar.gz'), front: join(build, 'front', 'current.tar.gz') };
  let buildSeconds: number | null = null;
  if (!existsSync(tarballs.api) || !existsSync(tarballs.front)) {
    if (o.version) {
      const known = installedReleases(paths).map((r) => r.version);
      throw new Error(`no release ${o.version}: neither installed in ${paths.releases} nor built in ${build} (installed: ${known.join(', ') || 'none'}); omit --version to build the current sources`);
    }
    say(`building release ${version} into ${build}`);
    const r = await buildRelease(d, { outDir: build, version, fault: o.fault, log: (l) => say(l.replace(/^\[release\] /, 'release: ')) });
    buildSeconds = r.durationMs / 1000;
    say(`release ${version} built in ${buildSeconds.toFixed(1)} s`);
  }
  // Unpacked beside its final folder, then renamed: a half-unpacked release is never "installed".
  const dir = releaseDir(paths, version);
  const tmp = `${dir}.installing-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const api = unpack(tarballs.api, join(tmp, 'api'));
    unpack(tarballs.front, join(tmp, 'front'));
    const release: InstalledRelease = {
      version, commit: version.slice(0, 40), builtAt: api.builtAt, buildSeconds,
      sha256: { api: sha256(tarballs.api), front: sha256(tarballs.front) }, fault: api.fault ?? null, installedAt: new Date().toISOString(),
    };
    writeFileAtomic(join(tmp, 'release.json'), JSON.stringify(release, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // Each front slot's nginx.conf for this release: the release's own server block around its site.
    for (const slot of d.frontSlots) writeFileAtomic(nginxConfFile(paths, slot, version), nginxConf(d, slot, join(releaseTierDir(paths, version, 'front'), 'site'), paths));
    say(`release ${version} installed in ${dir} (every file checked against release.json)`);
    return release;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The release to go back to: the last successfully deployed (or started) version before the current one. */
export function previousVersion(paths: Pick<StatePaths, 'releaseHistory' | 'currentRelease'>): string | null {
  const current = currentVersion(paths);
  const ok = readHistory(paths).filter((e) => e.result === 'ok').map((e) => e.version);
  for (let i = ok.length - 1; i >= 0; i--) if (ok[i] !== current) return ok[i]!;
  return null;
}
