// The region's database TLS files, made once with Debian's openssl (nothing downloaded): a CA, and a
// server certificate for 127.0.0.1 and localhost signed by it. Every MariaDB node serves that certificate;
// the app user (REQUIRE SSL) connects with the CA, so the local region runs the API's TLS code path as
// Aurora does.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatePaths } from '../paths.js';
import { runOnce } from './spawn.js';

/** Long-lived on purpose: a local region kept for years must not stop serving because a certificate expired. */
const DAYS = '3650';

/**
 * Creates <stateDir>/tls unless it is complete already. Written into a temporary folder and renamed, so an
 * interrupted run leaves no half set. The CA's key is deleted once it has signed: nothing else can be minted
 * that the clients would trust. The server key is mode 600 (mariadbd runs as the region's user).
 * @returns true when it generated the files now.
 */
export async function ensureRegionTls(paths: Pick<StatePaths, 'tls'>, address = '127.0.0.1'): Promise<boolean> {
  const t = paths.tls;
  if ([t.ca, t.cert, t.key].every((f) => existsSync(f))) return false;
  const tmp = `${t.dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const f = (n: string) => join(tmp, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await runOnce('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', DAYS, '-subj', '/CN=conduit local region database CA']);
    await runOnce('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${address}`]);
    // The region's own address (its clients connect there) and 127.0.0.1.
    const ips = [...new Set([address, '127.0.0.1'])].map((ip) => `IP:${ip}`).join(',');
    writeFileSync(f('server.ext'), `subjectAltName=${ips},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
    await runOnce('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f('server.pem'), '-days', DAYS, '-extfile', f('server.ext')]);
    for (const n of ['ca.key', 'ca.srl', 'server.csr', 'server.ext']) rmSync(f(n), { force: true });
    chmodSync(f('server.key'), 0o600);
    chmodSync(tmp, 0o755);
    rmSync(t.dir, { recursive: true, force: true }); // an incomplete set from an older run
    renameSync(tmp, t.dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return true;
}
