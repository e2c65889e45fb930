// What each client may do in the cache (Redis): one list, read by both targets. The local region writes it
// into each node's ACL users (packages/local, generators/redis.ts); AWS into an ElastiCache RBAC user's
// access string (packages/aws, constructs/cache.ts). Not a setting: it is what the API's code sends, so a
// definition cannot change it (the API would break), but both targets must grant exactly the same thing.

/** One client's Redis permissions: its ACL user, its key pattern, the only commands it may run. */
export interface CacheClientAccess {
  /** ACL / RBAC user name (the API sends it with AUTH). */
  readonly user: string;
  /** Key pattern (Redis ACL `~pattern`): the client's whole key space. */
  readonly keys: string;
  /** Commands (and `command|subcommand`) allowed, lower case; everything else is refused with NOPERM. */
  readonly commands: readonly string[];
}

export const CACHE_ACCESS = {
  /**
   * The API: its cache and rate-limit scripts (EVALSHA, EVAL when the script is not loaded yet: ioredis
   * defineCommand), the commands they and the Cache class run, and what ioredis sends on connect (AUTH/HELLO;
   * INFO for its ready check, where it reads the node's role; ROLE, read-only, for the same). No CONFIG,
   * FLUSHALL, KEYS, ACL, SUBSCRIBE: it cannot reconfigure the cache, empty it, list other keys or listen to
   * channels. Keys: the Cache class's prefix (`conduit:`, packages/api/src/cache/cache.ts).
   */
  api: {
    user: 'conduit-api',
    keys: 'conduit:*',
    commands: ['get', 'set', 'del', 'exists', 'incr', 'pttl', 'pexpire', 'evalsha', 'eval', 'ping', 'info', 'role', 'hello', 'auth', 'select', 'client|setname'],
  },
} as const satisfies Record<string, CacheClientAccess>;

export type CacheAccess = typeof CACHE_ACCESS;

/**
 * The permission rules of a client, in Redis ACL syntax, without the user's name, state or password (each
 * target adds those its own way: `user NAME on >PASSWORD resetkeys …` in redis.conf; `on …` as an ElastiCache
 * access string, whose password is an API parameter and which refuses `reset`). `resetchannels`: no Pub/Sub
 * channel (Redis 7's default for new users, stated so an older `acl-pubsub-default` cannot widen it).
 * `-@all` before the `+` list: only the listed commands.
 */
export function cacheAclRules(a: CacheClientAccess): string {
  return `~${a.keys} resetchannels -@all ${a.commands.map((c) => `+${c}`).join(' ')}`;
}
