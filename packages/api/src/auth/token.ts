// JWT (HS256) with the secret from the environment. The token carries the user id only.
import { createSigner, createVerifier } from 'fast-jwt';

export interface TokenService {
  sign(userId: number): string;
  /** The user id, or null when the token is invalid or expired. */
  verify(token: string): number | null;
}

export function createTokenService(secret: string, ttl = '30d'): TokenService {
  const ttlMs = parseTtl(ttl);
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlMs, iss: 'conduit' });
  // The verifier caches verified tokens (an LRU keyed by the token): repeated requests skip the HMAC.
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: 'conduit', cache: 10_000 });
  return {
    sign: (userId) => signer({ sub: String(userId) }),
    verify: (token) => {
      try {
        const payload = verifier(token) as { sub?: unknown };
        const id = Number(payload.sub);
        return Number.isSafeInteger(id) && id > 0 ? id : null;
      } catch {
        return null;
      }
    },
  };
}

function parseTtl(ttl: string): number {
  const m = /^(\d+)([smhd])$/.exec(ttl);
  if (!m) throw new Error(`token ttl: expected like 30d, got ${ttl}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
