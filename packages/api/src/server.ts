// Process entry: read the environment, listen, shut down gracefully on SIGTERM/SIGINT
// (stop accepting, finish in-flight requests, close the pools, exit 0).
//   node --import tsx packages/api/src/server.ts
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`conduit-api: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const app = buildApp(config);
let closing = false;

async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
  // A fixed last resort in case a request never ends, not a definition setting: whoever stops the process
  // bounds it from outside first (the local supervisor SIGKILLs after api.drainSeconds, systemd after its
  // stop timeout), and 25 s lets a normal drain (api.drainSeconds, default 10 s) finish before it.
  const timer = setTimeout(() => {
    app.log.error('shutdown deadline (25 s) passed, exiting');
    process.exit(1);
  }, 25_000);
  timer.unref();
  try {
    await app.close();
    app.log.info('shut down cleanly');
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'error while shutting down');
    process.exit(1);
  }
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ host: config.host, port: config.port });
} catch (err) {
  app.log.fatal({ err }, 'could not start');
  process.exit(1);
}
