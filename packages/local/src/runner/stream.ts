// Streaming children: a tool whose stdin/stdout is part of a pipeline (mariadb-backup | zstd | … | S3).
// The caller wires the streams; this starts the process and reports how it ended, with its stderr.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface StreamingChild {
  child: ChildProcessByStdio<Writable | null, Readable, Readable>;
  stdout: Readable;
  stdin: Writable | null;
  /** Resolves with the whole stderr when the process exits 0; rejects with the command and stderr's tail. */
  done: Promise<string>;
  kill(): void;
}

export function spawnStreaming(command: string, args: string[], o: { stdin?: boolean; cwd?: string; env?: Record<string, string> } = {}): StreamingChild {
  const child = spawn(command, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`${command}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stderr);
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}): ${stderr.trim().split('\n').slice(-4).join(' | ')}`));
    });
  });
  return { child, stdout: child.stdout, stdin: child.stdin, done, kill: () => { try { child.kill('SIGKILL'); } catch { /* gone */ } } };
}
