#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so no build step stands between a clone and `npx tier`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsx = require.resolve('tsx');
const r = spawnSync(process.execPath, ['--import', tsx, join(here, '../src/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? (r.signal ? 1 : 0));
