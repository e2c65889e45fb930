// Builds the two artifacts the AWS instances install from the releases bucket (layout: @conduit/aws/release-layout):
//   api/current.tar.gz    server.mjs + migrate.mjs (the API bundled with esbuild, npm dependencies included),
//                         migrations/*.sql, swagger-ui/static (files @fastify/swagger-ui reads at run time), release.json
//   front/current.tar.gz  site/ (packages/web/dist) + nginx.conf (nginx.ts: the server block the local front instances run too), release.json
// release.json: version (git commit), build time, sha256 and size of every other file of the artifact.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedDefinition } from '@conduit/definition';
import { APP_PORTS, RELEASE_FILES, releaseDir } from '@conduit/aws/release-layout';
import { nginxServerBlock } from './nginx.js';
import { faultBanner, type ReleaseFault } from './faults.js';
import { nodeBundleOptions } from './node-bundle.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const apiDir = join(repoRoot, 'packages/api');
const migrateEntry = join(dirname(fileURLToPath(import.meta.url)), 'migrate-entry.ts');
/** Folder of @fastify/swagger-ui, whose code reads its static files relative to its own __dirname. */
const swaggerUiDir = dirname(createRequire(join(apiDir, 'package.json')).resolve('@fastify/swagger-ui'));
/** Where the swagger-ui static files go inside the API artifact. */
export const SWAGGER_UI_DIR = 'swagger-ui';

export interface ReleaseFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  tier: 'api' | 'front';
  version: string;
  builtAt: string;
  /** Set only on a test release built with a fault knob (see faults.ts); never on a shipped one. */
  fault?: ReleaseFault;
  files: ReleaseFile[];
}

export interface Artifact {
  tier: 'api' | 'front';
  /** Absolute path of <out>/<tier>/current.tar.gz. */
  tarball: string;
  bytes: number;
  sha256: string;
  manifest: Manifest;
}

export interface ReleaseOptions {
  /** Output folder: <outDir>/api/current.tar.gz, <outDir>/front/current.tar.gz (staging folders beside them). */
  outDir: string;
  /** Progress lines ("[release] ..."); default: none. */
  log?: (line: string) => void;
  /** Build the SPA when packages/web/dist is missing or stale (default true). */
  buildWeb?: boolean;
  /** Version recorded in release.json; default: the git commit of the repository (with -dirty when it has changes). */
  version?: string;
  /** Test releases only (drills): bundle a fault into the API (faults.ts). The shipped sources are not changed. */
  fault?: ReleaseFault;
}

export interface ReleaseResult {
  version: string;
  artifacts: Artifact[];
  durationMs: number;
}

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name)).split(sep).join('/')]))
    .sort();
}

export function gitVersion(cwd = repoRoot): string {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}

/** Writes release.json into a staged folder and packs the folder (its content at the archive's root). */
function pack(tier: 'api' | 'front', stage: string, tarball: string, version: string, builtAt: string, fault?: ReleaseFault): Artifact {
  const files = listFiles(stage).map((path) => {
    const buf = readFileSync(join(stage, path));
    return { path, bytes: buf.length, sha256: sha256(buf) };
  });
  const manifest: Manifest = { tier, version, builtAt, ...(fault ? { fault } : {}), files };
  writeFileSync(join(stage, RELEASE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  mkdirSync(dirname(tarball), { recursive: true });
  // Sorted names, fixed owner: the archive depends on the files only (plus their mtimes).
  execFileSync('tar', ['-czf', tarball, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', stage, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const buf = readFileSync(tarball);
  return { tier, tarball, bytes: buf.length, sha256: sha256(buf), manifest };
}

/**
 * The API bundle (node-bundle.mjs: the options every Node bundle shares). Everything is bundled (no node_modules
 * on the instance). @fastify/swagger-ui reads its static files relative to its own __dirname: inside its files,
 * __dirname is mapped to <artifact>/swagger-ui/<same sub-folder>, where its static/ folder is copied. pino's worker files are only used by transports (not configured).
 */
async function bundleApi(stage: string, fault?: ReleaseFault): Promise<void> {
  const { build } = await import('esbuild');
  const swaggerUiPrefix = swaggerUiDir + sep;
  await build({
    ...nodeBundleOptions([
      "import { join as __releaseJoin } from 'node:path';",
      'const __releaseVendorDir = (sub) => __releaseJoin(__dirname, sub);',
      ...(fault ? [faultBanner(fault)] : []),
    ]),
    entryPoints: { server: join(apiDir, 'src/server.ts'), migrate: migrateEntry },
    outdir: stage,
    minify: false,
    sourcemap: false,
    plugins: [
      {
        name: 'relocate-swagger-ui',
        setup(b) {
          b.onLoad({ filter: /[\\/]@fastify[\\/]swagger-ui[\\/].*\.js$/ }, (args) => {
            if (!args.path.startsWith(swaggerUiPrefix)) return undefined;
            const sub = [SWAGGER_UI_DIR, ...relative(swaggerUiDir, dirname(args.path)).split(sep).filter(Boolean)].join('/');
            const text = readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, `__releaseVendorDir(${JSON.stringify(sub)})`);
            return { contents: text, loader: 'js' };
          });
        },
      },
    ],
  });
  for (const f of [RELEASE_FILES.api.server, RELEASE_FILES.api.migrate]) asciiOnly(join(stage, f));
  cpSync(join(apiDir, 'migrations'), join(stage, RELEASE_FILES.api.migrations), { recursive: true });
  cpSync(join(swaggerUiDir, 'static'), join(stage, SWAGGER_UI_DIR, 'static'), { recursive: true });
}

/**
 * Escapes what is not ASCII in a bundle (\uXXXX: the same text in a comment, the same value in a string or a
 * regular expression). V8 keeps a module's source in memory while it runs, and one character above U+00FF
 * makes that a two-byte string: an em dash in a dependency's comment doubled the API's 5.4 MB of source in
 * the heap. esbuild already escapes code (its default charset); what it leaves is in comments.
 */
export function asciiOnly(file: string): void {
  const text = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return;
  writeFileSync(file, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** The nginx server block of an AWS front instance: the same block the local front instances serve. */
export function frontNginxConf(d: ResolvedDefinition): string {
  const root = `${releaseDir(d.name, 'front')}/${RELEASE_FILES.front.site}`;
  return `# Front tier of "${d.name}" on AWS — generated by @conduit/release (nginxServerBlock); do not edit.
# Included by /etc/nginx/nginx.conf inside http { } (installed as /etc/nginx/conf.d/${d.name}-front.conf).
${nginxServerBlock({ listen: String(APP_PORTS.front), root, assetMaxAgeSeconds: d.edge.assetMaxAgeSeconds })}`;
}

export async function buildRelease(d: ResolvedDefinition, opts: ReleaseOptions): Promise<ReleaseResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const outDir = resolve(opts.outDir);
  const version = opts.version ?? gitVersion();
  const builtAt = new Date().toISOString();
  const step = async <T>(title: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    log(`[release] ${title} ...`);
    const r = await fn();
    log(`[release] ${title}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  };

  const apiStage = join(outDir, 'api', 'stage');
  const frontStage = join(outDir, 'front', 'stage');
  for (const s of [apiStage, frontStage]) {
    rmSync(s, { recursive: true, force: true });
    mkdirSync(s, { recursive: true });
  }

  await step('api: bundle server.mjs and migrate.mjs with esbuild (node20, esm)', () => bundleApi(apiStage, opts.fault));
  const api = await step('api: pack api/current.tar.gz', () => pack('api', apiStage, join(outDir, 'api', 'current.tar.gz'), version, builtAt, opts.fault));

  const web = await import('@conduit/web');
  if (opts.buildWeb !== false) {
    await step('front: build the SPA when packages/web/dist is stale', async () => void (await web.ensureBuilt({ quiet: true })));
  }
  if (!statSync(web.indexHtml, { throwIfNoEntry: false })) throw new Error(`front: ${web.indexHtml} is missing: build the SPA (npm run build -w packages/web)`);
  await step('front: copy packages/web/dist and render nginx.conf', () => {
    cpSync(web.distDir, join(frontStage, RELEASE_FILES.front.site), { recursive: true, filter: (src) => !src.endsWith('bundle-report.json') });
    writeFileSync(join(frontStage, RELEASE_FILES.front.nginxConf), frontNginxConf(d));
  });
  const front = await step('front: pack front/current.tar.gz', () => pack('front', frontStage, join(outDir, 'front', 'current.tar.gz'), version, builtAt, opts.fault));

  return { version, artifacts: [api, front], durationMs: Date.now() - started };
}

/** Human summary: one line per artifact, then its files with size and sha256. */
export function formatSummary(r: ReleaseResult): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`.padStart(12);
  const lines = [`release ${r.version} built in ${(r.durationMs / 1000).toFixed(1)} s:`];
  for (const a of r.artifacts) {
    lines.push(`  ${a.tarball}  ${kb(a.bytes).trim()}  sha256 ${a.sha256}`);
    const width = Math.max(...a.manifest.files.map((f) => f.path.length));
    for (const f of a.manifest.files) lines.push(`    ${f.path.padEnd(width)} ${kb(f.bytes)}  ${f.sha256}`);
  }
  return lines.join('\n') + '\n';
}
