import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from '../../src/api.ts';
import { createAuth, debugHooks, TOKEN_KEY, type KeyValueStorage } from '../../src/auth.ts';
import type { User } from '../../src/types.ts';

function memoryStorage(init: Record<string, string> = {}): KeyValueStorage & { data: Record<string, string> } {
  const data = { ...init };
  return {
    data,
    getItem: (k) => data[k] ?? null,
    setItem: (k, v) => { data[k] = v; },
    removeItem: (k) => { delete data[k]; },
  };
}

const jake: User = { username: 'jake', email: 'jake@x.io', bio: 'hi', image: null, token: 'tok-1' };

describe('auth state', () => {
  it('starts unauthenticated without a token and loading with one', () => {
    expect(createAuth(memoryStorage()).getState()).toBe('unauthenticated');
    expect(createAuth(memoryStorage({ [TOKEN_KEY]: 't' })).getState()).toBe('loading');
  });

  it('signIn keeps the token under jwtToken and notifies; signOut forgets it', () => {
    const storage = memoryStorage();
    const auth = createAuth(storage);
    const seen: string[] = [];
    const unsubscribe = auth.subscribe((s) => seen.push(`${s.state}:${s.user?.username ?? '-'}`));
    auth.signIn(jake);
    expect(storage.data).toEqual({ jwtToken: 'tok-1' });
    expect(auth.getToken()).toBe('tok-1');
    auth.signOut();
    expect(storage.data).toEqual({});
    unsubscribe();
    auth.signIn(jake);
    expect(seen).toEqual(['authenticated:jake', 'unauthenticated:-']);
  });

  it('restore() accepts a valid token', async () => {
    const auth = createAuth(memoryStorage({ [TOKEN_KEY]: 'tok-1' }));
    expect(await auth.restore({ currentUser: async () => jake })).toBe('authenticated');
    expect(auth.getUser()).toEqual(jake);
  });

  it('restore() forgets a token the server rejects', async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'expired' });
    const auth = createAuth(storage);
    const state = await auth.restore({ currentUser: async () => { throw new ApiError(401, { token: ['is invalid'] }); } });
    expect(state).toBe('unauthenticated');
    expect(storage.data).toEqual({});
  });

  it('restore() retries a failed check, then succeeds', async () => {
    const auth = createAuth(memoryStorage({ [TOKEN_KEY]: 'tok-1' }));
    let calls = 0;
    const state = await auth.restore({ currentUser: async () => { if (++calls < 3) throw new NetworkError('down'); return jake; } }, [1, 1]);
    expect([state, calls]).toEqual(['authenticated', 3]);
  });

  it('restore() does not undo a sign-out that happened while it waited', async () => {
    const auth = createAuth(memoryStorage({ [TOKEN_KEY]: 'tok-1' }));
    let calls = 0;
    const pending = auth.restore({ currentUser: async () => { calls++; throw new NetworkError('down'); } }, [20]);
    auth.signOut();
    expect(await pending).toBe('unauthenticated');
    expect(calls).toBe(1);
  });

  it('restore() keeps the token when the server cannot be reached', async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'tok-1' });
    const auth = createAuth(storage);
    let calls = 0;
    const state = await auth.restore({ currentUser: async () => { calls++; throw new NetworkError('down'); } }, [1, 1], 60_000);
    expect(calls).toBe(3);
    expect(state).toBe('unavailable');
    expect(storage.data).toEqual({ jwtToken: 'tok-1' });
    expect(auth.getUser()).toBeNull();
    auth.signOut(); // stops the background checks
  });

  it('restore() keeps checking while unavailable, with backoff, and recovers by itself', async () => {
    const auth = createAuth(memoryStorage({ [TOKEN_KEY]: 'tok-1' }));
    const at: number[] = [];
    let down = true;
    const state = await auth.restore({ currentUser: async () => { at.push(Date.now()); if (down) throw new NetworkError('down', 'server'); return jake; } }, [], 20);
    expect(state).toBe('unavailable');
    await new Promise((r) => setTimeout(r, 100)); // tries after 20 ms and 40 ms more
    expect(at.length).toBeGreaterThanOrEqual(3);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(at[1]! - at[0]! - 5);
    down = false;
    await expect.poll(() => auth.getState(), { timeout: 2_000 }).toBe('authenticated');
    expect(auth.getToken()).toBe('tok-1');
  });

  it('restore() drops the token on any 4xx (e.g. the account is gone), not only 401', async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'tok-1' });
    const auth = createAuth(storage);
    expect(await auth.restore({ currentUser: async () => { throw new ApiError(404, { user: ['not found'] }); } })).toBe('unauthenticated');
    expect(storage.data).toEqual({});
  });

  it('restore() without a token needs no server', async () => {
    const auth = createAuth(memoryStorage());
    expect(await auth.restore({ currentUser: async () => { throw new Error('must not be called'); } })).toBe('unauthenticated');
  });

  it('restore() keeps the stored token when the server answers without one', async () => {
    const auth = createAuth(memoryStorage({ [TOKEN_KEY]: 'tok-9' }));
    await auth.restore({ currentUser: async () => ({ ...jake, token: '' }) });
    expect(auth.getToken()).toBe('tok-9');
  });

  it('exposes window.__conduit_debug__ hooks', () => {
    const auth = createAuth(memoryStorage());
    const debug = debugHooks(auth);
    expect([debug.getToken(), debug.getAuthState(), debug.getCurrentUser()]).toEqual([null, 'unauthenticated', null]);
    auth.signIn(jake);
    expect(debug.getToken()).toBe('tok-1');
    expect(debug.getAuthState()).toBe('authenticated');
    expect(debug.getCurrentUser()).toEqual({ username: 'jake', email: 'jake@x.io', bio: 'hi', image: null, token: 'tok-1' });
  });
});
