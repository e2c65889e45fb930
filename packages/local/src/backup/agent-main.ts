// The backup agent's process entry, run from its bundle: `node packages/local/bin/backup-agent.mjs <stateDir>`
// (the supervisor runs it; bin/backup-agent.mjs builds dist/ with esbuild when the sources changed).
import { statePaths } from '../paths.js';
import { readPlan } from '../supervisor/plan.js';
import { backupEnv } from './env.js';
import { runAgent } from './agent.js';
import { killThrowaways } from './restore.js';

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: agent-main.ts <stateDir>\n');
  process.exit(2);
}
const plan = readPlan(statePaths(stateDir).plan);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
let stopping = false;
// A verify in progress runs a throwaway mariadbd in a process group of its own: it goes with the agent.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { stopping = true; killThrowaways(); setTimeout(() => process.exit(0), 2_000).unref(); });
await runAgent(backupEnv(plan.definition, plan.stateDir, plan.configFile, log), () => stopping);
process.exit(0);
