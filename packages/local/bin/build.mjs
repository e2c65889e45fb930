// Bundles the backup agent into dist/backup-agent.mjs (@conduit/release/node-bundle: the esbuild setup every
// Node bundle shares), so the supervisor runs it with plain node instead of the TypeScript sources through tsx.
// dist/ sits one level below the package, like src/: the bundled paths.ts finds the repository from it.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '@conduit/release/node-bundle';

const localDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildLocalBundles(outDir = join(localDir, 'dist')) {
  // Not minified: its errors and stack traces land in its log, readable.
  return buildBundle({ entryPoints: { 'backup-agent': join(localDir, 'src/backup/agent-main.ts') }, outDir });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const r = await buildLocalBundles();
  process.stdout.write(`backup agent bundled into ${relative(process.cwd(), r.outDir)} (${r.inputs} inputs, ${Date.now() - t0} ms)\n`);
}
