// The coverage gate npm test applies (scripts/coverage.mjs): each way a package can miss it is named.
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript without types: scripts/ runs before node_modules exists
import { checkGates, readCoverageConfig } from '../../../scripts/coverage.mjs';

const root = resolvePath(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const config = { goal: 95, gates: { api: 95, local: 60 }, gateNotes: { local: 'runs in a child process' }, notMeasured: { cli: 'child process only' } };
const measured = (pct: number) => ({ covered: pct, total: 100, pct });

describe('the coverage gate', () => {
  it('passes packages at or above their gates and lists the unmeasured ones with their reason', () => {
    const { lines, failures } = checkGates({ api: measured(95), local: measured(61) }, config, ['api', 'cli', 'local']);
    expect(failures).toEqual([]);
    expect(lines.join('\n')).toMatch(/cli +not measured: child process only/);
  });

  it('names a package under its gate, one without a gate, and one never measured without a reason', () => {
    const { failures } = checkGates({ api: measured(94.9), web: measured(80) }, config, ['api', 'web', 'testkit']);
    expect(failures).toEqual([
      'testkit was not measured and coverage.config.json gives no notMeasured reason',
      'api: 94.9 % lines is below its gate of 95 %',
      'web has no gate in coverage.config.json',
    ]);
  });

  it('a gate under the goal needs a note saying why', () => {
    const { failures } = checkGates({ local: measured(70) }, { ...config, gateNotes: {} }, ['local']);
    expect(failures).toEqual(['local: its gate (60 %) is under the goal (95 %) without a gateNotes reason']);
  });

  it('the committed config has a gate or a reason for every package', () => {
    const committed = readCoverageConfig(root);
    for (const pkg of ['api', 'aws', 'cli', 'definition', 'delivery', 'drills', 'local', 'release', 'testkit', 'web']) {
      expect(pkg in committed.gates || pkg in committed.notMeasured, pkg).toBe(true);
    }
  });
});
