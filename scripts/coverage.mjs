// Line coverage per package, summed over every test project (a package's code counts wherever it ran:
// the definition is exercised by the aws and local projects too), checked against coverage.config.json.
// Each project writes istanbul's coverage-final.json (vitest's v8 provider) into <dir>/<project>/;
// this merges them, groups files by package and compares each package with its gate.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import libCoverage from 'istanbul-lib-coverage';

/** The settings: the goal, each package's gate, and the excluded files with their one-line reasons. */
export function readCoverageConfig(root) {
  const config = JSON.parse(readFileSync(join(root, 'coverage.config.json'), 'utf8'));
  for (const [file, reason] of Object.entries(config.exclude ?? {})) {
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      throw new Error(`coverage.config.json: exclude["${file}"] needs a one-line reason (why this file is not measured)`);
    }
  }
  return config;
}

/** vitest flags that make one project write its coverage where summarize() reads it. */
export function coverageArgs(root, dir, project) {
  const config = readCoverageConfig(root);
  return [
    '--coverage.enabled',
    '--coverage.provider=v8',
    '--coverage.reporter=json',
    `--coverage.reportsDirectory=${join(dir, project)}`,
    '--coverage.include=packages/*/src/**',
    ...Object.keys(config.exclude ?? {}).map((file) => `--coverage.exclude=${file}`),
  ];
}

/** Merged line coverage per package: { package: { covered, total, pct } }, packages sorted by name. */
export function summarize(root, dir) {
  const map = libCoverage.createCoverageMap({});
  if (existsSync(dir)) {
    for (const project of readdirSync(dir)) {
      const file = join(dir, project, 'coverage-final.json');
      if (existsSync(file)) map.merge(JSON.parse(readFileSync(file, 'utf8')));
    }
  }
  const perPackage = {};
  for (const file of map.files()) {
    const pkg = relative(join(root, 'packages'), file).split(sep)[0];
    const lines = map.fileCoverageFor(file).toSummary().lines;
    const entry = (perPackage[pkg] ??= { covered: 0, total: 0 });
    entry.covered += lines.covered;
    entry.total += lines.total;
  }
  return Object.fromEntries(
    Object.keys(perPackage)
      .sort()
      .map((pkg) => {
        const { covered, total } = perPackage[pkg];
        return [pkg, { covered, total, pct: total === 0 ? 100 : (100 * covered) / total }];
      }),
  );
}

/**
 * One line per package and the failures: a package under its gate, a measured package with no gate, or a
 * package that was not measured and has no `notMeasured` reason. Gates under the goal are ratchets: each
 * has a `gateNotes` entry saying why the package is not at the goal yet.
 */
export function checkGates(summary, config, packages = Object.keys(summary)) {
  const lines = [];
  const failures = [];
  for (const pkg of packages) {
    if (pkg in summary) continue;
    const reason = config.notMeasured?.[pkg];
    lines.push(`  ${pkg.padEnd(11)}   not measured: ${reason ?? 'no reason given'}`);
    if (!reason) failures.push(`${pkg} was not measured and coverage.config.json gives no notMeasured reason`);
  }
  for (const [pkg, { covered, total, pct }] of Object.entries(summary)) {
    const gate = config.gates[pkg];
    const verdict = gate === undefined ? 'no gate' : pct + 1e-9 >= gate ? 'ok' : 'BELOW GATE';
    lines.push(`  ${pkg.padEnd(11)} ${pct.toFixed(1).padStart(5)} % lines (${covered}/${total})  gate ${gate ?? '-'} %  goal ${config.goal} %  ${verdict}`);
    if (gate === undefined) failures.push(`${pkg} has no gate in coverage.config.json`);
    else if (gate < config.goal && !config.gateNotes?.[pkg]) failures.push(`${pkg}: its gate (${gate} %) is under the goal (${config.goal} %) without a gateNotes reason`);
    else if (verdict !== 'ok') failures.push(`${pkg}: ${pct.toFixed(1)} % lines is below its gate of ${gate} %`);
  }
  return { lines, failures };
}
