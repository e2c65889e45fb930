// The supervisor's watchdog: `tier up` starts it detached (node --import tsx watchdog.ts <stateDir>); it
// only spawns the supervisor (daemon.ts), relays its start-up messages to `tier up`, and spawns it again
// when it dies abnormally, as adopting (`--adopt`: the new supervisor takes over the running processes as
// they are). It imports nothing but Node's own modules and holds no state but a counter: nothing in it can
// fail the way the supervisor can (controllers, sockets, SQL). See README "Watchdog".
//   - the supervisor exits 0 (it stopped the region on SIGTERM): the watchdog exits 0;
//   - it fails during the first start (exit code != 0 before "ready"): the watchdog exits with its code
//     (`tier up` reports the failure; restarting a region that cannot start would only loop);
//   - anything else (a signal, a crash after "ready"): spawned again after 0.2 s, doubling to 5 s while it
//     keeps dying within a minute of its start.
// SIGTERM/SIGINT: the watchdog stops restarting first, then hands the signal to the supervisor and exits
// with it, so `tier down` (which signals the watchdog) never races a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervisorLogLine } from './log-line.js';

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: watchdog.ts <stateDir>\n');
  process.exit(2);
}
const root = resolve(stateDir);
// The same files as paths.ts (watchdogPid, watchdogState): not imported, to keep this process free of the package.
const pidFile = join(root, 'run', 'watchdog.pid');
const stateFile = join(root, 'run', 'watchdog.json');
const daemon = fileURLToPath(new URL('./daemon.ts', import.meta.url));

const log = (line: string) => process.stdout.write(supervisorLogLine(`watchdog: ${line}`));
const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
/** A supervisor that ran this long before dying is restarted at once again (the back-off resets). */
const STABLE_MS = 60_000;

let child: ChildProcess | null = null;
let stopping = false;
let ready = false;
let restarts = 0;
let delay = FIRST_DELAY_MS;
let lastExit: string | null = null;
let lastRestartAt: string | null = null;

function writeState(): void {
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, supervisorPid: child?.pid ?? null, restarts, lastExit, lastRestartAt }, null, 2) + '\n');
  renameSync(tmp, stateFile);
}

function start(adopt: boolean): void {
  const startedAt = Date.now();
  // The supervisor writes to the same log (our stdout/stderr); the IPC channel carries its start-up messages.
  const c = spawn(process.execPath, [...process.execArgv, daemon, root, ...(adopt ? ['--adopt'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env,
  });
  child = c;
  writeState();
  c.on('message', (m: { type?: string }) => {
    if (m?.type === 'ready') ready = true;
    if (process.connected) process.send?.(m);
    if (m?.type === 'ready' && process.connected) process.disconnect();
  });
  c.once('exit', (code, signal) => {
    child = null;
    lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (stopping || code === 0) {
      log(`supervisor ${c.pid} ${lastExit}: done`);
      rmSync(pidFile, { force: true });
      rmSync(stateFile, { force: true });
      process.exit(code ?? 0);
    }
    if (!ready) {
      log(`supervisor ${c.pid} ${lastExit} before the region was ready: not restarting it`);
      rmSync(pidFile, { force: true });
      rmSync(stateFile, { force: true });
      process.exit(code ?? 1);
    }
    if (Date.now() - startedAt > STABLE_MS) delay = FIRST_DELAY_MS;
    log(`supervisor ${c.pid} ${lastExit}: starting a new one in ${delay} ms, adopting the running processes`);
    writeState();
    setTimeout(() => {
      if (stopping) return;
      restarts += 1;
      lastRestartAt = new Date().toISOString();
      start(true);
      log(`supervisor restarted: pid ${child?.pid} (restart #${restarts})`);
    }, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  });
}

function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  log(`${signal}: no more restarts; stopping the supervisor`);
  if (child) child.kill('SIGTERM');
  else {
    rmSync(pidFile, { force: true });
    rmSync(stateFile, { force: true });
    process.exit(0);
  }
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => undefined);
writeFileSync(pidFile, `${process.pid}\n`);
log(`pid ${process.pid}, state ${root}`);
start(false);
