// Public surface of @conduit/api.
export { buildApp, type AppDeps } from './app.js';
export { loadConfig, loadDatabaseConfig, envSchema, ConfigError, type Config, type CacheConfig, type DatabaseTls } from './config.js';
export { apiEnvironment, type ApiEnvironment, type ApiEnvName } from './environment.js';
export { migrate, listMigrations, migrationsDir } from './db/migrate.js';
export { seed, DEMO_PASSWORD, type SeedResult } from './db/seed.js';
export { Db } from './db/pool.js';
export { Cache, createRedisClient } from './cache/cache.js';
