// Starts ONE throwaway MariaDB (port 28306) and ONE Redis (port 29379) for the api project,
// applies the migrations, hands the URLs to the tests (inject), and stops both at teardown.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startRedis } from '@conduit/testkit';
import { startMariaDbReliably as startMariaDb } from './mariadb.js';
import { migrate } from '../src/db/migrate.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const stateDir = join(repoRoot, '.test-state', 'api');

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
    mysqlRootUrl: string;
    redisUrl: string;
    stateDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [db, redis] = await Promise.all([
    startMariaDb({ port: 28306, dir: join(stateDir, 'mariadb'), database: 'conduit_test' }),
    startRedis({ port: 29379, dir: join(stateDir, 'redis') }),
  ]);
  const mysqlUrl = `mysql://root@127.0.0.1:${db.port}/conduit_test`;
  await migrate(mysqlUrl);
  project.provide('mysqlUrl', mysqlUrl);
  project.provide('mysqlRootUrl', `mysql://root@127.0.0.1:${db.port}/mysql`);
  project.provide('redisUrl', `redis://127.0.0.1:${redis.port}`);
  project.provide('stateDir', stateDir);
  return async () => {
    await Promise.all([db.stop(), redis.stop()]);
  };
}
