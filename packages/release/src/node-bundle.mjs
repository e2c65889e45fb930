// The one esbuild setup of every Node.js bundle in the repository: the API release (release.ts), the ops
// console and the backup agent (run by plain node instead of the TypeScript sources through tsx, whose
// loader and compiled sources cost tens of MB of RSS per process). Plain JavaScript so that the launchers
// (bin/*.mjs), which run without tsx, import it too; esbuild itself is loaded only when a bundle is built.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Options shared by every bundle: one ES module per entry (`.mjs`), Node 20, everything bundled. CommonJS
 * dependencies (fastify's, mysql2, ioredis, the AWS SDK) need `require`, `__filename` and `__dirname` in an
 * ES module: the banner gives them the bundle's own (plus `bannerLines`, e.g. the release's fault knob).
 */
export function nodeBundleOptions(bannerLines = []) {
  return {
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'error',
    banner: {
      js: [
        "import { createRequire as __bundleRequire } from 'node:module';",
        "import { fileURLToPath as __bundleToPath } from 'node:url';",
        "import { dirname as __bundleDirname } from 'node:path';",
        'const require = __bundleRequire(import.meta.url);',
        'const __filename = __bundleToPath(import.meta.url);',
        'const __dirname = __bundleDirname(__filename);',
        ...bannerLines,
      ].join('\n'),
    },
  };
}

/**
 * Bundles `entryPoints` into `outDir` (replaced whole, never half-written) with `inputs.json`: every input
 * with its size and mtime, so a launcher can tell when the bundle is stale (`bundleIsStale`).
 */
export async function buildBundle({ entryPoints, outDir, external = [], minify = false }) {
  const { build } = await import('esbuild');
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const r = await build({ ...nodeBundleOptions(), absWorkingDir: repoRoot, entryPoints, outdir: tmp, external, minify, metafile: true });
  const inputs = {};
  for (const file of Object.keys(r.metafile.inputs)) {
    const st = statSync(join(repoRoot, file));
    inputs[file] = `${st.size}:${st.mtimeMs}`;
  }
  writeFileSync(join(tmp, 'inputs.json'), JSON.stringify(inputs) + '\n');
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return { outDir, inputs: Object.keys(inputs).length };
}

/** True when `outDir` was never built or any of its inputs changed since. */
export function bundleIsStale(outDir) {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(outDir, 'inputs.json'), 'utf8'));
  } catch {
    return true;
  }
  for (const [file, stamp] of Object.entries(inputs)) {
    try {
      const st = statSync(join(repoRoot, file));
      if (`${st.size}:${st.mtimeMs}` !== stamp) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * A launcher's body: rebuilds the bundle first when stale, in a child (`builder`, a script that calls
 * buildBundle: esbuild never loads in the long-running process), then runs `entry` in this process.
 */
export async function runBundle({ outDir, builder, entry }) {
  if (bundleIsStale(outDir)) execFileSync(process.execPath, [builder], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Two launchers that found it stale at once (both regions' agents) both rebuild: the other's swap of the
  // folder may remove it for an instant. Loading again after a moment then finds the complete bundle.
  for (let attempt = 1; ; attempt++) {
    try {
      return await import(pathToFileURL(join(outDir, entry)).href);
    } catch (e) {
      if (e?.code !== 'ERR_MODULE_NOT_FOUND' || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
