import { describe, expect, it } from 'vitest';
import { capacitySchema, DefinitionError, derivedTargetRps, measuredCapacity, regionDefinition, resolve } from '../src/index.js';

const problemsOf = (input: unknown): string[] => {
  try {
    resolve(input);
  } catch (e) {
    if (e instanceof DefinitionError) return e.problems;
    throw e;
  }
  throw new Error('expected a DefinitionError');
};

describe('resolve() defaults', () => {
  const r = resolve({});

  it('spreads the default topology over 3 zones and 2 regions', () => {
    expect(r.zoneList.map((z) => z.name)).toEqual(['a', 'b', 'c']);
    expect(r.zoneList[0]!.awsZone).toBe('eu-west-1a');
    expect(r.regionList).toEqual(['eu-west-1', 'eu-central-1']);
  });

  it('places one database replica per other zone', () => {
    expect(r.dbNodes.map((n) => [n.name, n.zone, n.initialRole, n.serverId])).toEqual([
      ['db-a', 'a', 'primary', 1],
      ['db-b', 'b', 'replica', 2],
      ['db-c', 'c', 'replica', 3],
    ]);
  });

  it('derives instance slots up to max, round-robin over zones, with consecutive ports', () => {
    expect(r.apiSlots).toHaveLength(r.api.instances.max);
    expect(r.apiSlots.slice(0, 4).map((s) => `${s.name}@${s.zone}:${s.port}`)).toEqual([
      'api-1@a:8200',
      'api-2@b:8201',
      'api-3@c:8202',
      'api-4@a:8203',
    ]);
    expect(r.frontSlots[0]).toEqual({ name: 'front-1', zone: 'a', port: 8100 });
  });

  it('has a cache primary, a replica and three sentinels with a majority quorum', () => {
    expect(r.cacheNodes.map((n) => n.initialRole)).toEqual(['primary', 'replica']);
    expect(r.sentinelNodes).toHaveLength(3);
    expect(r.cache.quorum).toBe(2);
    expect(r.cacheMasterName).toBe('conduit-cache');
  });

  it('is frozen: nothing downstream can change the single source of truth', () => {
    expect(Object.isFrozen(r.api.instances)).toBe(true);
  });
});

describe('resolve() overrides', () => {
  it('supports a single region without backup copies', () => {
    const r = resolve({ regions: { secondary: null }, backup: { copyToSecondary: false } });
    expect(r.regionList).toEqual(['eu-west-1']);
  });

  it('names extra replicas in a zone distinctly', () => {
    const r = resolve({ zones: 2, database: { replicas: 3 } });
    expect(r.dbNodes.map((n) => n.name)).toEqual(['db-a', 'db-b', 'db-a2', 'db-b2']);
  });
});

describe('invariants name the fields and values', () => {
  it('rejects min > max', () => {
    expect(problemsOf({ api: { instances: { min: 4, desired: 4, max: 3 } } })).toContain(
      'api.instances.min (4) must be <= api.instances.max (3)',
    );
  });

  it('rejects desired outside [min, max]', () => {
    expect(problemsOf({ front: { instances: { min: 2, desired: 1, max: 3 } } })).toContain(
      'front.instances.desired (1) must be >= front.instances.min (2)',
    );
  });

  it('rejects a minority sentinel quorum', () => {
    expect(problemsOf({ cache: { sentinels: 3, quorum: 1 } })).toContain(
      'cache.quorum (1) must be a majority of cache.sentinels (3), i.e. >= 2',
    );
  });

  it('rejects a multi-zone database without replicas', () => {
    expect(problemsOf({ database: { replicas: 0 } })[0]).toMatch(/database.replicas \(0\) must be >= 1 when zones \(3\) > 1/);
  });

  it('rejects the same region twice', () => {
    expect(problemsOf({ regions: { primary: 'us-east-1', secondary: 'us-east-1' } })[0]).toMatch(/regions.secondary \(us-east-1\) must differ/);
  });

  it('rejects a standby sizing that the secondary region could not run, naming its field', () => {
    expect(problemsOf({ regions: { secondaryScale: { databaseReplicas: 0 } } })).toContain('regions.secondaryScale.databaseReplicas (0) must be >= 1 when zones (3) > 1: the secondary\'s writer needs a replica to fail over to');
  });

  it('rejects overlapping ports and names both owners', () => {
    expect(problemsOf({ local: { ports: { api: 8080 } } })).toContain('local port 8080 is used by both local.ports.edge and local.ports.api');
    // API slots 8200.. collide with a front base moved into their range.
    expect(problemsOf({ local: { ports: { frontInstancesBase: 8201 } } }).some((p) => /front-1/.test(p) && /api-2/.test(p))).toBe(true);
  });

  it('rejects failover slower than the semi-sync timeout', () => {
    expect(problemsOf({ database: { failoverAfterMs: 20_000 } })[0]).toMatch(/database.failoverAfterMs \(20000\) must be < database.semiSyncTimeoutMs \(10000\)/);
  });

  it('rejects a stall threshold shorter than the failure threshold', () => {
    expect(problemsOf({ database: { failoverAfterMs: 3000, stallFailoverAfterMs: 2000 } })).toContain(
      'database.stallFailoverAfterMs (2000) must be >= database.failoverAfterMs (3000): a silent primary may still come back, a gone one does not',
    );
  });

  it('rejects copies to a missing secondary region', () => {
    expect(problemsOf({ regions: { secondary: null } })[0]).toMatch(/backup.copyToSecondary/);
  });

  it('reports schema errors with their path, including unknown (mistyped) keys', () => {
    expect(problemsOf({ zones: 0 })[0]).toMatch(/^zones: /);
    expect(problemsOf({ api: { instance: {} } })[0]).toMatch(/^api: .*instance/);
    expect(problemsOf({ name: 'Bad Name' })[0]).toMatch(/^name: lower-case/);
  });
});

describe('API clients and the edge', () => {
  it('allows any origin by default and takes a list of origins', () => {
    expect(resolve({}).api.corsAllowedOrigins).toEqual(['*']);
    expect(resolve({ api: { corsAllowedOrigins: ['https://app.example.com', 'http://127.0.0.1:5173'] } }).api.corsAllowedOrigins).toHaveLength(2);
  });
  it('refuses something that is not an origin, naming the field', () => {
    const problems = problemsOf({ api: { corsAllowedOrigins: ['https://app.example.com/path'] } });
    expect(problems.join(' ')).toContain('api.corsAllowedOrigins');
    expect(problems.join(' ')).toContain('an origin like https://app.example.com');
  });
  it('gives the edge a purge port of its own, which must not clash', () => {
    expect(resolve({}).local.ports.edgePurge).toBe(8082);
    expect(problemsOf({ local: { ports: { edgePurge: 8080 } } })).toContain('local port 8080 is used by both local.ports.edge and local.ports.edgePurge');
  });
});

describe('scaling targets from the capacity benchmark', () => {
  it('derives targetRpsPerInstance from the committed knee × targetUtilisation unless the definition sets it', () => {
    const knee = measuredCapacity.knee.apiRpsPerInstance;
    const d = resolve({});
    expect(d.scaling.targetUtilisation).toBe(0.6);
    expect(d.scaling.targetRpsPerInstance).toBe(Math.floor(knee * 0.6));
    // A resolved definition resolves to itself (the supervisor re-checks its plan that way).
    expect(JSON.stringify(regionDefinition(d, 'primary'))).toBe(JSON.stringify(d));
    expect(resolve({ scaling: { targetUtilisation: 0.5 } }).scaling.targetRpsPerInstance).toBe(Math.floor(knee * 0.5));
    expect(resolve({ scaling: { targetRpsPerInstance: 20 } }).scaling.targetRpsPerInstance).toBe(20);
    expect(d.capacity).toBe(measuredCapacity);
  });
  it('has SLO defaults and refuses out-of-range utilisation and objectives', () => {
    expect(resolve({}).slo).toEqual({ p99Ms: 250, errorRate: 0.001 });
    expect(problemsOf({ scaling: { targetUtilisation: 1.5 } })[0]).toMatch(/^scaling\.targetUtilisation: /);
    expect(problemsOf({ slo: { errorRate: -1 } })[0]).toMatch(/^slo\.errorRate: /);
  });
  it('checks the committed benchmark file against its schema', () => {
    expect(capacitySchema.safeParse(measuredCapacity).success).toBe(true);
    expect(capacitySchema.safeParse({ ...measuredCapacity, knee: { ...measuredCapacity.knee, apiRpsPerInstance: 0 } }).success).toBe(false);
    expect(derivedTargetRps(10, 0.01)).toBe(1);
  });
});

describe('two regions', () => {
  const d = resolve({ regions: { secondaryScale: { api: 2, databaseReplicas: 1 } } });
  it('runs the primary region on its own address with the global name', () => {
    expect([d.regionName, d.address, d.peerAddress, d.dnsName]).toEqual(['eu-west-1', '127.0.0.1', '127.0.2.1', 'www.conduit.test']);
    expect(resolve({ edge: { domain: 'example.com' } }).dnsName).toBe('www.example.com');
  });
  it('derives the secondary: its address, zones, distinct server ids and the warm standby sizes', () => {
    const s = regionDefinition(d, 'secondary');
    expect([s.regionName, s.address, s.peerAddress, s.zoneList[0]!.awsZone]).toEqual(['eu-central-1', '127.0.2.1', '127.0.0.1', 'eu-central-1a']);
    expect(s.dbNodes.map((n) => n.serverId)).toEqual([101, 102]);
    expect(s.api.instances).toEqual({ min: 2, desired: 2, max: 9 });
    expect(s.front.instances).toEqual(d.front.instances);
    // The supervisor re-resolves the plan: a resolved secondary resolves to itself.
    expect(JSON.stringify(regionDefinition(s, 'secondary'))).toBe(JSON.stringify(s));
    expect(s.local.ports).toEqual(d.local.ports);
  });
  it('refuses two regions on one address, and a secondary that does not exist', () => {
    expect(problemsOf({ local: { addresses: { secondary: '127.0.0.1' } } })[0]).toMatch(/local.addresses.secondary \(127.0.0.1\) must differ from local.addresses.primary/);
    expect(problemsOf({ regions: { secondary: null }, backup: { copyToSecondary: false }, local: { region: 'secondary' } })[0]).toMatch(/local.region \(secondary\) needs regions.secondary/);
    expect(problemsOf({ local: { addresses: { secondary: '10.0.0.1' } } })[0]).toMatch(/local.addresses.secondary: a loopback address/);
  });
  it('claims the DNS port like every other port', () => {
    expect(problemsOf({ local: { ports: { dns: 8080 } } })).toContain('local port 8080 is used by both local.ports.edge and local.ports.dns');
  });
});
