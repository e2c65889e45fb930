// Placeholder until the aws commands land; each says so instead of pretending to work.
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command.js';

export const synth = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier synth` is not implemented yet'); } };
export const plan = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier plan` is not implemented yet'); } };
export const apply = { async run(_ctx: CommandContext): Promise<number> { throw new CliError('`tier apply` is not implemented yet'); } };
