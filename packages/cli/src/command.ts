/** What every `tier` subcommand receives: positionals after its name and the parsed flags. */
export interface CommandContext {
  args: string[];
  flags: { config?: string; json: boolean; help: boolean; [k: string]: string | boolean | undefined };
}

export type Command = { run(ctx: CommandContext): Promise<number> };
