// The backup agent as the supervisor runs it: `node bin/backup-agent.mjs <stateDir>`. It runs the bundle
// (dist/backup-agent.mjs, src/backup/agent-main.ts) with plain node, not the sources through tsx (the loader
// and the compiled sources cost tens of MB of RSS). The bundle is rebuilt first, in a child (esbuild never
// loads here), when any of its inputs changed since it was built.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from '@conduit/release/node-bundle';

const localDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await runBundle({ outDir: join(localDir, 'dist'), builder: join(localDir, 'bin/build.mjs'), entry: 'backup-agent.mjs' });
