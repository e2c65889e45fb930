import { describe, expect, it } from 'vitest';
import { backupVerifyMaxAgeSeconds, observabilityAlarms, resolve } from '../src/index.js';

describe('observabilityAlarms (one list: Prometheus rules locally, CloudWatch alarms on AWS)', () => {
  const d = resolve({ observability: { alarms: { p99LatencyMs: 750, cpuPercent: 70, replicaLagSeconds: 3, freeableMemoryMb: 128 } }, cache: { replicas: 2 } });
  const alarms = observabilityAlarms(d);
  const byId = (id: string) => alarms.find((a) => a.id === id)!;

  it('has unique ids and alert names, and every alarm runs on at least one target (a reason where not on both)', () => {
    expect(new Set(alarms.map((a) => a.id)).size).toBe(alarms.length);
    expect(byId('api-5xx-percent').name).toBe('Api5xxPercent');
    expect(byId('db-semi-sync-degraded').name).toBe('DbSemiSyncDegraded');
    for (const a of alarms) {
      expect(a.local.kind === 'prometheus' || a.aws.kind !== 'none', a.id).toBe(true);
      if (a.local.kind === 'none') expect(a.local.why.length, a.id).toBeGreaterThan(20);
      if (a.aws.kind === 'none') expect(a.aws.why.length, a.id).toBeGreaterThan(20);
    }
  });

  it('takes every threshold from the definition, in each target\'s unit', () => {
    expect(byId('api-latency')).toMatchObject({
      local: { expr: expect.stringMatching(/ > 750$/) },
      aws: { kind: 'metric', threshold: 0.75, metric: { metric: 'TargetResponseTime', stat: 'p99' } },
    });
    expect(byId('db-replica-lag')).toMatchObject({ local: { expr: 'conduit_db_replica_lag_seconds > 3' }, aws: { threshold: 3000, metric: { secondaryMetric: 'AuroraGlobalDBReplicationLag' } } });
    expect(byId('front-cpu').local).toMatchObject({ expr: 'conduit_process_cpu_percent{tier="front"} > 70' });
    expect(byId('cache-freeable-memory').aws).toMatchObject({ comparison: 'LessThanThreshold', threshold: 128 * 1024 * 1024 });
    expect(byId('cache-primary-without-replica').local).toMatchObject({ expr: expect.stringContaining('redis_connected_slaves{} < 2') });
    expect(byId('front-5xx-percent').aws).toMatchObject({ kind: 'percent', part: { metric: 'HTTPCode_Target_5XX_Count', target: 'front-alb' } });
  });

  it('backup-verify: a failed verify, or none for backup.verifyEveryHours plus half of it (at most 1 h more)', () => {
    expect(byId('backup-verify').local).toMatchObject({ expr: 'conduit_backup_verify_ok == 0 or conduit_backup_verify_age_seconds > 90000' }); // 24 h + 1 h
    expect(backupVerifyMaxAgeSeconds(resolve({ backup: { verifyEveryHours: 0.5 } }))).toBe(2700); // 30 min + 15 min
    expect(observabilityAlarms(resolve({ backup: { verifyEveryHours: 1 } })).find((a) => a.id === 'backup-verify')!.summary).toContain('5400 s (backup.verifyEveryHours 1 h');
    expect(() => resolve({ backup: { verifyEveryHours: 0 } })).toThrow(/backup\.verifyEveryHours/);
  });
});
