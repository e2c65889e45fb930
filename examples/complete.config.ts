// Every section set explicitly: the test matrix's "complete" example.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'conduit-prod',
  regions: { primary: 'us-east-1', secondary: 'us-west-2' },
  zones: 3,
  edge: { domain: 'conduit.example.com', assetMaxAgeSeconds: 31_536_000, apiMaxAgeSeconds: 5, rateLimitPer5Min: 2000 },
  front: { instances: { min: 3, desired: 3, max: 6 }, healthCheck: { path: '/', intervalMs: 1000, fall: 2, rise: 2 }, instanceType: 't4g.micro' },
  api: {
    instances: { min: 3, desired: 6, max: 12 },
    healthCheck: { path: '/health/ready', intervalMs: 1000, fall: 2, rise: 2 },
    instanceType: 'c7g.large',
    drainSeconds: 10,
  },
  // targetRpsPerInstance is left to the capacity benchmark: its knee × targetUtilisation.
  scaling: { targetUtilisation: 0.6, targetCpuPercent: 60, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
  slo: { p99Ms: 250, errorRate: 0.001 },
  database: { replicas: 2, instanceClass: 'db.r6g.xlarge', failoverAfterMs: 1000, stallFailoverAfterMs: 5000, semiSyncTimeoutMs: 10_000, deletionProtection: true },
  cache: { replicas: 2, sentinels: 3, quorum: 2, downAfterMs: 1000, nodeType: 'cache.r7g.large', ttlSeconds: 60 },
  backup: { retentionDays: 14, fullEveryHours: 24, window: '02:00-03:00', copyToSecondary: true },
  delivery: { githubRepository: 'conduit-platform/conduit', environments: ['staging', 'production'], nodeMajor: 22 },
  observability: {
    logRetentionDays: 90,
    scrapeIntervalSeconds: 5,
    alarms: { http5xxPercent: 1, p99LatencyMs: 500, replicaLagSeconds: 5, cpuPercent: 80, freeableMemoryMb: 512 },
  },
});
