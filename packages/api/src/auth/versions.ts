// Is a token's version still the user's? Asked on every authenticated request, so the answer is kept in
// process memory for a few seconds (TTL_MS) instead of a round trip per request: in Redis it would cost one
// on every request (and still need the database when Redis is down), in the database one per request.
// The price: after a password change, the instances that did not take it accept the old tokens until their
// entry expires (at most TTL_MS plus the replica lag). The instance that took it knows at once (`learned`).
// A token newer than the entry (signed after a password change, maybe on another instance) refreshes it.
import { findTokenVersion } from '../db/users.js';
import type { Queryable } from '../db/pool.js';

export const TOKEN_VERSION_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export interface TokenVersions {
  /** True when `version` is the user's current token version (false: unknown user or an older token). */
  isCurrent(userId: number, version: number): Promise<boolean>;
  /** The version this instance just wrote (a password change): its own cache is right at once. */
  learned(userId: number, version: number): void;
}

export function createTokenVersions(db: { reader: Queryable; writer: Queryable }, now = () => Date.now()): TokenVersions {
  const entries = new Map<number, { version: number; until: number }>();
  const loading = new Map<number, Promise<number | null>>();
  const remember = (userId: number, version: number) => {
    entries.delete(userId);
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    entries.set(userId, { version, until: now() + TOKEN_VERSION_TTL_MS });
  };
  // The reader first; the writer when the reader does not have the user yet or has an older version than
  // the token (a registration or password change the replica has not applied): never a false 401.
  const load = async (userId: number, atLeast: number): Promise<number | null> => {
    const fromReader = db.reader === db.writer ? null : await findTokenVersion(db.reader, userId);
    const version = fromReader !== null && fromReader >= atLeast ? fromReader : await findTokenVersion(db.writer, userId);
    if (version !== null) remember(userId, version);
    return version;
  };
  return {
    async isCurrent(userId, version) {
      const e = entries.get(userId);
      if (e && e.until > now() && e.version >= version) return e.version === version;
      // One load per user at a time: a burst of requests from one client waits on the same query.
      let p = loading.get(userId);
      if (!p) {
        p = load(userId, version).finally(() => loading.delete(userId));
        loading.set(userId, p);
      }
      const current = await p;
      if (current !== null && current < version) return (await load(userId, version)) === version;
      return current === version;
    },
    learned: remember,
  };
}
