// Placeholder until the drill commands land; each says so instead of pretending to work.
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';

export const drill = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier drill` is not implemented yet'); } };
