// TLS to the database, against a real MariaDB that refuses TCP without TLS (require_secure_transport, like the
// Aurora parameter group) and an application user created `REQUIRE SSL` (like appUserSql on AWS): the API
// connects only when DATABASE_TLS_CA names the CA that signed the server certificate. Port 26401.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { generateCertificates, type ServerHandle, type TlsFiles } from '@conduit/testkit';
import { startMariaDbReliably as startMariaDb } from './mariadb.js';
import { migrate } from '../src/db/migrate.js';
import { loadDatabaseConfig } from '../src/config.js';
import { makeApp, register } from './helpers.js';

const execFileP = promisify(execFile);
const PORT = 26401;
let db: ServerHandle;
let tls: TlsFiles;
let strangerCa: TlsFiles;
const apps: FastifyInstance[] = [];
const url = `mysql://tls_app:tls-app-password@127.0.0.1:${PORT}/conduit_tls`;

beforeAll(async () => {
  const dir = join(inject('stateDir'), 'mariadb-tls');
  tls = await generateCertificates(join(inject('stateDir'), 'tls-ca'));
  strangerCa = await generateCertificates(join(inject('stateDir'), 'tls-stranger-ca'));
  db = await startMariaDb({ port: PORT, dir, database: 'conduit_tls', tls });
  await execFileP('mariadb', [`--socket=${join(dir, 'mysqld.sock')}`, '-uroot', '-e', [
    "CREATE USER 'tls_app'@'127.0.0.1' IDENTIFIED BY 'tls-app-password' REQUIRE SSL",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON conduit_tls.* TO 'tls_app'@'127.0.0.1'",
  ].join('; ')]);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await db?.stop();
});

const appWith = async (env: Record<string, string>) => {
  const app = await makeApp({ DATABASE_WRITER_URL: url, REDIS_URL: '', ...env });
  apps.push(app);
  return app;
};

describe('TLS to a database that requires it', () => {
  it('migrates and serves with DATABASE_TLS_CA set to the CA that signed the server certificate', async () => {
    const { writerUrl, tls: setting } = loadDatabaseConfig({ DATABASE_WRITER_URL: url, DATABASE_TLS_CA: tls.ca });
    const { applied } = await migrate(writerUrl, { tls: setting });
    expect(applied.length).toBeGreaterThan(0);
    const app = await appWith({ DATABASE_TLS_CA: tls.ca });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode, ready.body).toBe(200);
    const user = await register(app, 'tls');
    const me = await app.inject({ url: '/api/user', headers: user.auth });
    expect(me.statusCode).toBe(200);
    // The session really is encrypted: the server reports the cipher of this very connection.
    const [rows] = await app.db.writer.query<import('mysql2').RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    expect(String(rows[0]!.Value)).not.toBe('');
  });

  it('is refused without TLS (the server requires secure transport): not ready, a 503 for requests, never a 500', async () => {
    const app = await appWith({});
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect((await app.inject({ url: '/api/articles' })).statusCode).toBe(503);
    await expect(migrate(url)).rejects.toThrow(/secure transport|SSL|Access denied/i);
  });

  it('is refused when the server certificate does not chain to the configured CA (another CA, or the Amazon RDS bundle)', async () => {
    for (const ca of [strangerCa.ca, 'rds']) {
      const app = await appWith({ DATABASE_TLS_CA: ca });
      expect((await app.inject({ url: '/health/ready' })).statusCode, ca).toBe(503);
    }
    await expect(migrate(url, { tls: { kind: 'rds' } })).rejects.toThrow(/certificate/i);
  });
});
