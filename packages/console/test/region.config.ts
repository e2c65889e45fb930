// The console's test region: every port in 27000-27999 (nobody else's), its own state folder, the smallest
// topology that still has every kind of part (2 zones, LB, edge, a DB replica, a Redis replica, Sentinels),
// and the ops console, Alertmanager and the blackbox exporter on. Scrapes every second so alerts move fast.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'conduit-console',
  regions: { primary: 'eu-west-1', secondary: null },
  zones: 2,
  front: { instances: { min: 1, desired: 1, max: 2 } },
  api: { instances: { min: 1, desired: 2, max: 3 }, drainSeconds: 1 },
  scaling: { targetRpsPerInstance: 1_000_000, scaleInCooldownSeconds: 3600 },
  database: { replicas: 1, semiSyncTimeoutMs: 2000 },
  cache: { replicas: 1, sentinels: 1, quorum: 1 },
  backup: { copyToSecondary: false },
  observability: { console: true, scrapeIntervalSeconds: 1 },
  local: {
    // From packages/console/test: <repo>/.test-state/console
    stateDir: '../../../.test-state/console',
    backupsDir: '../../../.test-state/console-backups',
    seed: false,
    ports: {
      edge: 27080, edgeAdmin: 27081, front: 27090, api: 27091, lbStats: 27404,
      frontInstancesBase: 27100, apiInstancesBase: 27200,
      dbWriter: 27306, dbReader: 27307, dbNodesBase: 27310,
      redisBase: 27379, sentinelBase: 27389,
      prometheus: 27490, mysqldExporter: 27504, redisExporter: 27521, objectStore: 27650,
      console: 27600, alertmanager: 27693, blackboxExporter: 27615,
    },
  },
});
