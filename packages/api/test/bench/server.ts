// The benchmark's server process: the real app (buildApp + config from the environment) plus one bare
// "hello" route on the same instance, used as the ceiling. Logs go to /dev/null at the configured level.
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

const config = loadConfig(process.env);
const app = buildApp(config, { logger: { level: config.logLevel, file: '/dev/null' } });
app.get('/bench/hello', async () => ({ hello: 'world' }));
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ host: '127.0.0.1', port: config.port });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
