// Placeholder until the region commands land; each says so instead of pretending to work.
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';

export const up = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier up` is not implemented yet'); } };
export const down = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier down` is not implemented yet'); } };
export const destroy = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier destroy` is not implemented yet'); } };
export const status = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier status` is not implemented yet'); } };
export const logs = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier logs` is not implemented yet'); } };
