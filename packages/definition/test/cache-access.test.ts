import { describe, expect, it } from 'vitest';
import { CACHE_ACCESS, cacheAclRules, regionDefinition, resolve } from '../src/index.js';

describe('cacheAccess (what each cache client may do in Redis, on both targets)', () => {
  const d = resolve({});

  it('is resolved into every definition, the secondary region included, and cannot be changed', () => {
    expect(d.cacheAccess).toBe(CACHE_ACCESS);
    expect(regionDefinition(resolve({}), 'secondary').cacheAccess.api).toEqual(CACHE_ACCESS.api);
    expect(Object.isFrozen(d.cacheAccess.api.commands)).toBe(true);
    expect(() => (d.cacheAccess.api.commands as unknown as string[]).push('flushall')).toThrow(TypeError);
    // Not a setting: a definition that tries to set it is refused like any unknown field.
    expect(() => resolve({ cacheAccess: { api: { keys: '*' } } })).toThrow(/cacheAccess/);
  });

  it("gives the API its key prefix only, and none of the commands that reconfigure, empty, list or listen", () => {
    const api = d.cacheAccess.api;
    expect(api.user).toBe('conduit-api');
    expect(api.keys).toBe('conduit:*');
    expect(new Set(api.commands).size).toBe(api.commands.length);
    for (const c of api.commands) expect(c).toMatch(/^[a-z]+(\|[a-z]+)?$/);
    const forbidden = ['config', 'flushall', 'flushdb', 'keys', 'scan', 'acl', 'shutdown', 'debug', 'module', 'replicaof', 'slaveof', 'subscribe', 'psubscribe', 'publish', 'monitor', 'script', 'function', 'client', 'client|kill', 'migrate', 'restore', 'dump'];
    expect(api.commands.filter((c) => forbidden.includes(c))).toEqual([]);
  });

  it('renders Redis ACL rules: the key pattern, no channels, nothing but the listed commands', () => {
    expect(cacheAclRules({ user: 'u', keys: 'app:*', commands: ['get', 'client|setname'] })).toBe('~app:* resetchannels -@all +get +client|setname');
    const rules = cacheAclRules(d.cacheAccess.api).split(' ');
    expect(rules.slice(0, 3)).toEqual(['~conduit:*', 'resetchannels', '-@all']);
    expect(rules.slice(3)).toEqual(d.cacheAccess.api.commands.map((c) => `+${c}`));
    // Never a password or `reset` (each target adds its own user, state and password; ElastiCache refuses `reset`).
    expect(rules.some((r) => r.startsWith('>') || r.startsWith('#') || r === 'reset' || r === 'nopass' || r === 'on' || r === 'off')).toBe(false);
  });
});
