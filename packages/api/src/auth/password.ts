// Passwords: Node's built-in scrypt (memory-hard, slow by design), a random salt per password,
// parameters stored with the hash so they can be raised later without breaking old hashes: a sign-in whose
// stored hash has other parameters than the configured ones rehashes the password (routes/users.ts).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP's password storage guidance lists equivalent scrypt settings (same CPU, less memory per hash as p
 * rises): N=2^17,r=8,p=1 (128 MiB) ... N=2^14,r=8,p=5 (16 MiB). The 16 MiB one: libuv runs four hashes at
 * once, 64 MiB in all instead of 512 MiB on a small instance. api.auth.scrypt in the definition.
 */
export const OWASP_SCRYPT: ScryptParams = { N: 2 ** 14, r: 8, p: 5 };
const KEYLEN = 32;
/** scrypt needs 128·N·r bytes; Node refuses above maxmem (32 MiB by default). Hashes up to N=2^17,r=8 verify. */
const MAXMEM = 160 * 1024 * 1024;

export interface PasswordHasher {
  readonly params: ScryptParams;
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /** True when `stored` was made with other parameters than these (rehash it after a successful sign-in). */
  needsRehash(stored: string): boolean;
  /** A hash of a random password: verified against when the email is unknown, so timing does not reveal accounts. */
  dummy(): Promise<string>;
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  return { params: { N: Number(n), r: Number(r), p: Number(p) }, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
}

export function createPasswordHasher(params: ScryptParams = OWASP_SCRYPT): PasswordHasher {
  let dummy: Promise<string> | null = null;
  const hash = async (password: string) => {
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, KEYLEN, { ...params, maxmem: MAXMEM });
    return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
  };
  return {
    params,
    hash,
    async verify(password, stored) {
      const h = parse(stored);
      if (!h) return false;
      const key = await scrypt(password, h.salt, h.key.length, { ...h.params, maxmem: MAXMEM });
      return key.length === h.key.length && timingSafeEqual(key, h.key);
    },
    needsRehash(stored) {
      const h = parse(stored);
      return h === null || h.params.N !== params.N || h.params.r !== params.r || h.params.p !== params.p;
    },
    dummy() {
      dummy ??= hash(randomBytes(16).toString('hex'));
      return dummy;
    },
  };
}
