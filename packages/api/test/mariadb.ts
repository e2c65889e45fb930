// startMariaDb, made robust for re-runs and a loaded machine:
// - a server left running by an earlier, interrupted run of THESE tests (its command line names this
//   very data folder) is stopped first; anything else on the port is reported, never killed;
// - the testkit waits for the TCP port and then runs `mariadb` over the unix socket, which under load
//   can appear a moment later: that attempt is stopped (pid file) and retried.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { startMariaDb, type MariaDbOptions, type ServerHandle } from '@conduit/testkit';

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });

/** Kills the mariadbd whose pid file is in dir, if its command line names dir (it is ours). */
async function stopLeftover(dir: string): Promise<void> {
  const pidFile = join(dir, 'mysqld.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!(pid > 0)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running
  }
  if (!cmdline.includes('mariadbd') || !cmdline.includes(dir)) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
      await sleep(100);
    } catch {
      return;
    }
  }
}

export async function startMariaDbReliably(opts: MariaDbOptions, attempts = 3): Promise<ServerHandle> {
  await stopLeftover(opts.dir);
  if (await listening(opts.port)) throw new Error(`port ${opts.port} is already in use by another process: stop it or free the port`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMariaDb(opts);
    } catch (err) {
      await stopLeftover(opts.dir);
      if (attempt >= attempts) throw err;
      await sleep(300);
    }
  }
}
