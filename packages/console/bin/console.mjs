// The console process as the supervisor runs it: `node bin/console.mjs <stateDir>`. It runs the bundle
// (dist/main.mjs) with plain node, not the TypeScript sources through tsx (the loader and the compiled
// sources cost tens of MB of RSS). The bundle is rebuilt first, in a child (esbuild never loads here),
// when any of its inputs changed since it was built.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from '@conduit/release/node-bundle';

const consoleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await runBundle({ outDir: join(consoleDir, 'dist'), builder: join(consoleDir, 'bin/build.mjs'), entry: 'main.mjs' });
