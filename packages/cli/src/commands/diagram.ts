// `tier diagram [--out FILE]`: the topology of the definition as SVG (default: docs/topology.svg beside the
// definition, the picture the README embeds). The console draws the same graph live.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';
import { loadDefinition } from '../load-definition.js';

export const diagram = {
  async run(ctx: CommandContext): Promise<number> {
    const { file, definition } = await loadDefinition(ctx.flags.config);
    const out = ctx.flags.out;
    if (out === true || out === '') throw new CliError('--out needs a value: write --out=FILE.svg');
    const target = typeof out === 'string' ? resolvePath(out) : resolvePath(dirname(file), 'docs', 'topology.svg');
    const { renderTopology } = await import('@conduit/console');
    const svg = await renderTopology(definition);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, svg);
    process.stdout.write(ctx.flags.json ? JSON.stringify({ file: target, bytes: svg.length }) + '\n' : `wrote ${target} (${svg.length} bytes)\n`);
    return 0;
  },
};
