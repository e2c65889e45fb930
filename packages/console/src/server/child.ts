// Runs a bundled entry once in a child node process: JSON in on stdin, JSON out on stdout. For work that
// needs a big library briefly (the ELK layout): the library's memory goes back with the child.
import { execFile } from 'node:child_process';

export function runJsonChild<T>(entry: string, input: unknown, opts: { timeoutMs?: number; execArgv?: string[] } = {}): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(process.execPath, [...(opts.execArgv ?? []), entry], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${entry}: ${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      try {
        resolvePromise(JSON.parse(stdout) as T);
      } catch (e) {
        reject(new Error(`${entry}: not JSON on stdout (${(e as Error).message})`));
      }
    });
    child.stdin!.end(JSON.stringify(input));
  });
}
