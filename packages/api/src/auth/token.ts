// JWT (HS256) with the secret from the environment. A token carries the user id (`sub`), the user's token
// version when it was signed (`tv`: a password change increments the stored one, so older tokens stop being
// accepted; plugins/auth.ts compares them) and the time of the sign-in it descends from (`at`, seconds: a
// token re-issued by GET/PUT /user keeps it, so "signed in recently" means a password was typed recently).
// Tokens of the previous release have neither: version 0 (killed by the first password change) and no
// recent sign-in.
import { createSigner, createVerifier } from 'fast-jwt';

export interface TokenClaims {
  userId: number;
  version: number;
  /** Epoch seconds of the sign-in (or registration) the token descends from; 0 if unknown. */
  authTime: number;
}

export interface TokenService {
  sign(claims: TokenClaims): string;
  /** The claims, or null when the token is invalid or expired. */
  verify(token: string): TokenClaims | null;
}

/** `lifetimeMs`: from api.auth.tokenLifetimeHours (default 24 h). */
export function createTokenService(secret: string, lifetimeMs: number): TokenService {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: lifetimeMs, iss: 'conduit' });
  // The verifier caches verified tokens (an LRU keyed by the token): repeated requests skip the HMAC.
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: 'conduit', cache: 10_000 });
  return {
    sign: (c) => signer({ sub: String(c.userId), tv: c.version, at: c.authTime }),
    verify: (token) => {
      try {
        const payload = verifier(token) as { sub?: unknown; tv?: unknown; at?: unknown };
        const userId = Number(payload.sub);
        if (!Number.isSafeInteger(userId) || userId <= 0) return null;
        const version = payload.tv === undefined ? 0 : Number(payload.tv);
        const authTime = payload.at === undefined ? 0 : Number(payload.at);
        if (!Number.isSafeInteger(version) || version < 0 || !Number.isSafeInteger(authTime)) return null;
        return { userId, version, authTime };
      } catch {
        return null;
      }
    },
  };
}
