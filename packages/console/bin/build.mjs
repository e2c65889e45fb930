// Bundles the console with esbuild into dist/ (as packages/release bundles the API): main.mjs (the process
// the supervisor runs), logs-worker.mjs (DuckDB's process), layout.mjs (the ELK child). Plain JavaScript
// run by plain node: no tsx loader in the console's memory. @duckdb/node-api stays external (a native
// library; resolved from node_modules beside dist/). dist/inputs.json lists every input with its size and
// mtime, so bin/console.mjs can tell when the bundle is stale.
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const consoleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(consoleDir, '../..');

export async function buildConsole(outDir = join(consoleDir, 'dist')) {
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const r = await build({
    absWorkingDir: repoRoot,
    entryPoints: {
      main: join(consoleDir, 'src/server/main.ts'),
      'logs-worker': join(consoleDir, 'src/logs/worker.ts'),
      layout: join(consoleDir, 'src/topology/layout-child.ts'),
    },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // elkjs too: only the layout child loads it (a dynamic import), and it is plain JavaScript in node_modules.
    external: ['@duckdb/node-api', 'elkjs'],
    metafile: true,
    // Minified: V8 keeps every loaded script's source in the heap (~2 MB less for the console).
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    // CommonJS dependencies (fastify's, mysql2, ioredis) need require/__filename/__dirname in an ES module.
    banner: {
      js: [
        "import { createRequire as __consoleRequire } from 'node:module';",
        "import { fileURLToPath as __consoleToPath } from 'node:url';",
        "import { dirname as __consoleDirname } from 'node:path';",
        'const require = __consoleRequire(import.meta.url);',
        'const __filename = __consoleToPath(import.meta.url);',
        'const __dirname = __consoleDirname(__filename);',
      ].join('\n'),
    },
  });
  const inputs = {};
  for (const file of Object.keys(r.metafile.inputs)) {
    const st = statSync(join(repoRoot, file));
    inputs[file] = `${st.size}:${st.mtimeMs}`;
  }
  writeFileSync(join(tmp, 'inputs.json'), JSON.stringify(inputs) + '\n');
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return { outDir, inputs: Object.keys(inputs).length, relative: relative(repoRoot, outDir) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const r = await buildConsole(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`console bundled into ${r.relative} (${r.inputs} inputs, ${Date.now() - t0} ms)\n`);
}
