// `tier release [--out DIR]`: build api/current.tar.gz and front/current.tar.gz with @conduit/release
// (default folder: out/release beside the definition), printing a progress line per step and a summary.
import { dirname, resolve as resolvePath } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';
import { loadDefinition } from '../load-definition.js';

export const release = {
  async run(ctx: CommandContext): Promise<number> {
    const { file, definition } = await loadDefinition(ctx.flags.config);
    const out = ctx.flags.out;
    if (out === true || out === '') throw new CliError('--out needs a value: write --out=DIR');
    const outDir = typeof out === 'string' ? resolvePath(out) : resolvePath(dirname(file), 'out', 'release');
    const { buildRelease, formatSummary } = await import('@conduit/release');
    const result = await buildRelease(definition, { outDir, log: (line) => process.stderr.write(line + '\n') });
    process.stdout.write(ctx.flags.json ? JSON.stringify(result) + '\n' : formatSummary(result));
    return 0;
  },
};
