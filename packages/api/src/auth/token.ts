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

const CACHED_TOKENS = 10_000;

/** `lifetimeMs`: from api.auth.tokenLifetimeHours (default 24 h). */
export function createTokenService(secret: string, lifetimeMs: number): TokenService {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: lifetimeMs, iss: 'conduit' });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: 'conduit' });
  // Verified tokens are kept (at most CACHED_TOKENS, each until it expires), keyed by the token itself, so a
  // repeated request skips the HMAC. Not fast-jwt's own cache: it keys entries by a SHA hash of the token,
  // a createHash + digest per request (2.4 us vs 0.16 us for the same hit, measured), and its identity-key
  // option prints a security warning at every start. An exact string key cannot collide. The token version
  // is still checked on every request (plugins/auth.ts); refused tokens are not kept.
  const verified = new Map<string, { claims: TokenClaims; until: number }>();
  const check = (token: string): TokenClaims | null => {
    const payload = verifier(token) as { sub?: unknown; tv?: unknown; at?: unknown; exp?: unknown };
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || userId <= 0) return null;
    const version = payload.tv === undefined ? 0 : Number(payload.tv);
    const authTime = payload.at === undefined ? 0 : Number(payload.at);
    if (!Number.isSafeInteger(version) || version < 0 || !Number.isSafeInteger(authTime)) return null;
    const claims = { userId, version, authTime };
    if (typeof payload.exp === 'number') {
      if (verified.size >= CACHED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(token, { claims, until: payload.exp * 1000 });
    }
    return claims;
  };
  return {
    sign: (c) => signer({ sub: String(c.userId), tv: c.version, at: c.authTime }),
    verify: (token) => {
      const hit = verified.get(token);
      if (hit !== undefined) {
        if (hit.until > Date.now()) return hit.claims;
        verified.delete(token);
      }
      try {
        return check(token);
      } catch {
        return null;
      }
    },
  };
}
