/** An error whose message is the one line a user sees: what is wrong and how to fix it. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}
