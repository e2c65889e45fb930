// Bundles the console into dist/ (@conduit/release/node-bundle: the esbuild setup every Node bundle shares):
// main.mjs (the process the supervisor runs), logs-worker.mjs (DuckDB's process), layout.mjs (the ELK child).
// Plain JavaScript run by plain node: no tsx loader in the console's memory. @duckdb/node-api stays external
// (a native library; resolved from node_modules beside dist/). dist/inputs.json lists every input with its
// size and mtime, so bin/console.mjs can tell when the bundle is stale.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '@conduit/release/node-bundle';

const consoleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(consoleDir, '../..');

export async function buildConsole(outDir = join(consoleDir, 'dist')) {
  const r = await buildBundle({
    entryPoints: {
      main: join(consoleDir, 'src/server/main.ts'),
      'logs-worker': join(consoleDir, 'src/logs/worker.ts'),
      layout: join(consoleDir, 'src/topology/layout-child.ts'),
    },
    outDir,
    // elkjs too: only the layout child loads it (a dynamic import), and it is plain JavaScript in node_modules.
    external: ['@duckdb/node-api', 'elkjs'],
    // Minified: V8 keeps every loaded script's source in the heap (~2 MB less for the console).
    minify: true,
  });
  return { outDir, inputs: r.inputs, relative: relative(repoRoot, outDir) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const r = await buildConsole(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`console bundled into ${r.relative} (${r.inputs} inputs, ${Date.now() - t0} ms)\n`);
}
