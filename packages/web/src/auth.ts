// Auth state: the JWT in localStorage under `jwtToken`, the current user, and the state the app is in.
//   loading          a token exists and GET /user has not answered yet
//   authenticated    the server accepted the token
//   unauthenticated  no token, or the server rejected it (the token is then forgotten)
//   unavailable      a token exists but the server could not be reached (5xx, timeout, network error,
//                    malformed answer): it is kept, and the check is retried with backoff until the server
//                    answers; public pages stay usable meanwhile (the app shows "Connecting…")
import { ApiError, type Api } from './api.ts';
import type { User } from './types.ts';

export const TOKEN_KEY = 'jwtToken';

export type AuthState = 'authenticated' | 'unauthenticated' | 'unavailable' | 'loading';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface AuthSnapshot { state: AuthState; user: User | null }

export function createAuth(storage: KeyValueStorage) {
  let state: AuthState = storage.getItem(TOKEN_KEY) ? 'loading' : 'unauthenticated';
  let user: User | null = null;
  const listeners = new Set<(s: AuthSnapshot) => void>();
  const emit = () => { const s = { state, user }; for (const l of listeners) l(s); };

  const auth = {
    getToken(): string | null { return storage.getItem(TOKEN_KEY); },
    getState(): AuthState { return state; },
    getUser(): User | null { return user; },
    snapshot(): AuthSnapshot { return { state, user }; },
    subscribe(fn: (s: AuthSnapshot) => void): () => void { listeners.add(fn); return () => { listeners.delete(fn); }; },

    /** Stores the user the server just returned (login, register, settings) and its token. */
    signIn(u: User): void {
      storage.setItem(TOKEN_KEY, u.token);
      user = u;
      state = 'authenticated';
      emit();
    },
    /** Forgets the token and the user. */
    signOut(): void {
      storage.removeItem(TOKEN_KEY);
      user = null;
      state = 'unauthenticated';
      emit();
    },
    /**
     * Checks a stored token with GET /user. A 4xx is the server's verdict: the token is dropped. Any other
     * failure (network, 5xx, malformed answer: e.g. an instance being replaced) is retried after each of
     * `retryDelaysMs` while 'loading'; then the state becomes 'unavailable' and the check goes on in the
     * background, waiting `backoffMs` (doubling up to 30 s) between tries, until the server answers.
     * The returned promise settles once the state leaves 'loading'.
     */
    async restore(api: Pick<Api, 'currentUser'>, retryDelaysMs: number[] = [300, 1000], backoffMs = 2000): Promise<AuthState> {
      if (!storage.getItem(TOKEN_KEY)) { state = 'unauthenticated'; user = null; emit(); return state; }
      state = 'loading';
      emit();
      for (let attempt = 0; ; attempt++) {
        try {
          const u = await api.currentUser();
          // The server may hand out a refreshed token: keep whichever it returns.
          auth.signIn({ ...u, token: u.token || storage.getItem(TOKEN_KEY) || '' });
          return state;
        } catch (e) {
          if (e instanceof ApiError && e.status >= 400 && e.status < 500) { auth.signOut(); return state; }
          const delay = retryDelaysMs[attempt];
          if (delay === undefined || state !== 'loading') break;
          await new Promise((r) => setTimeout(r, delay));
          if (state !== 'loading') return state; // signed in or out meanwhile
        }
      }
      if (state === 'loading') {
        state = 'unavailable';
        user = null;
        emit();
        void keepTrying(api, backoffMs);
      }
      return state;
    },
  };
  /** While 'unavailable': check again with backoff; stops when signed in or out (by this or by the user). */
  async function keepTrying(api: Pick<Api, 'currentUser'>, first: number): Promise<void> {
    for (let wait = first; state === 'unavailable'; wait = Math.min(wait * 2, 30_000)) {
      await new Promise((r) => setTimeout(r, wait));
      if (state !== 'unavailable') return;
      try {
        const u = await api.currentUser();
        if (state === 'unavailable') auth.signIn({ ...u, token: u.token || storage.getItem(TOKEN_KEY) || '' });
      } catch (e) {
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && state === 'unavailable') auth.signOut();
      }
    }
  }

  return auth;
}

export type Auth = ReturnType<typeof createAuth>;

/** `window.__conduit_debug__`, the hook browser tests read the auth state through. */
export function debugHooks(auth: Auth) {
  return {
    getToken: () => auth.getToken(),
    getAuthState: () => auth.getState(),
    getCurrentUser: () => {
      const u = auth.getUser();
      return u ? { username: u.username, email: u.email, bio: u.bio, image: u.image, token: u.token } : null;
    },
  };
}
