// `npm test`: installs what is missing, type-checks, then runs every test project in order.
// Each project's vitest.config.ts starts the real servers it needs and stops them afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, root } from './bootstrap.mjs';

bootstrap();
// Loaded after the bootstrap: it needs node_modules (istanbul-lib-coverage), which a fresh clone does not have yet.
const { checkGates, coverageArgs, readCoverageConfig, summarize } = await import('./coverage.mjs');

const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (title, cmd, args, extraEnv = {}) => {
  process.stderr.write(`\n[test] ${title}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  process.stderr.write(`[test] ${title}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (r.status !== 0) process.exit(r.status ?? 1);
};

step('type-check (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
if (existsSync(join(root, 'packages/web/tsconfig.json'))) step('type-check web', bin('tsc'), ['-p', 'packages/web/tsconfig.json', '--noEmit']);

// Projects run one after another: the machine has 2 cores and the integration projects start whole regions.
const allProjects = 'definition,delivery,api,aws,release,local,web,console,drills';
const order = (process.env.TEST_PROJECTS ?? allProjects).split(',');
// Line coverage is measured on every run (TEST_COVERAGE=0 turns it off) and gated when every project ran:
// a subset would undercount the packages it does not exercise.
const coverage = process.env.TEST_COVERAGE !== '0';
const coverageDir = join(root, '.test-state', 'coverage');
rmSync(coverageDir, { recursive: true, force: true });
const args = process.argv.slice(2);
// Each project also writes vitest's JSON report, summed into one closing line for people and CI.
const results = join(root, '.test-state', 'results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
for (const project of order) {
  if (!existsSync(join(root, 'packages', project, 'vitest.config.ts'))) continue;
  const report = join(results, `${project}.json`);
  const coverageFlags = coverage ? coverageArgs(root, coverageDir, project) : [];
  step(`tests: ${project}`, bin('vitest'), ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...coverageFlags, ...args]);
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
}
let gateFailures = [];
if (coverage) {
  const config = readCoverageConfig(root);
  const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'package.json')));
  const { lines, failures } = checkGates(summarize(root, coverageDir), config, packages);
  const gated = order.join(',') === allProjects;
  process.stderr.write(`\n[test] line coverage per package (all projects merged${gated ? '' : '; partial run, gates not applied'}):\n${lines.join('\n')}\n`);
  if (gated) gateFailures = failures;
  for (const f of gateFailures) process.stderr.write(`[test] coverage gate: ${f}\n`);
}
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
if (gateFailures.length > 0) process.exit(1);
