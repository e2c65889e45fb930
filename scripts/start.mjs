// `npm start`: installs what is missing, then brings the whole local region up (`tier up`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bootstrap, root } from './bootstrap.mjs';

bootstrap();
const r = spawnSync(process.execPath, [join(root, 'packages/cli/bin/tier.mjs'), 'up', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
