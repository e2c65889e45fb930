// Loads stack.config.ts (or --config FILE) and resolves it; the only I/O between a user's file and the definition.
import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolve, type ResolvedDefinition } from '@conduit/definition';
import { CliError } from './cli-error.js';

export interface LoadedDefinition {
  /** Absolute path of the definition file. */
  file: string;
  definition: ResolvedDefinition;
  /** Absolute state folder of the local region (local.stateDir, relative to the file's folder). */
  stateDir: string;
}

export const defaultConfigFile = (cwd = process.cwd()) => resolvePath(cwd, 'stack.config.ts');

export async function loadDefinition(file: string = defaultConfigFile()): Promise<LoadedDefinition> {
  const abs = resolvePath(file);
  if (!existsSync(abs)) {
    throw new CliError(`definition file ${abs} not found: run from the repository root or pass --config FILE`);
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (e) {
    throw new CliError(`definition file ${abs} could not be loaded: ${(e as Error).message.split('\n')[0]}`);
  }
  if (mod.default === undefined) throw new CliError(`definition file ${abs} has no default export: end it with export default defineStack({...})`);
  // DefinitionError carries its own field-naming message; the CLI prints it as is.
  const definition = resolve(mod.default);
  return { file: abs, definition, stateDir: resolvePath(dirname(abs), definition.local.stateDir) };
}
