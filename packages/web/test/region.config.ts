// The local region the web browser tests bring up themselves (the default target): the defaults,
// moved to the 25xxx ports and a state folder of their own so it never collides with a developer's region.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'webtest',
  // The ops console, Alertmanager and the blackbox exporter are tested on a region of their own (packages/console).
  observability: { console: false },
  local: {
    // One region: two regions are tested on their own (packages/local/test/regions.test.ts).
    runSecondary: false,
    stateDir: '../../../.test-state/web-region',
    backupsDir: '../../../.test-state/web-region-backups',
    ports: {
      edge: 25280, edgeAdmin: 25281, edgePurge: 25285, front: 25282, api: 25283, lbStats: 25284,
      frontInstancesBase: 25300, apiInstancesBase: 25320,
      dbWriter: 25340, dbReader: 25341, dbNodesBase: 25350,
      redisBase: 25360, sentinelBase: 25370,
      prometheus: 25390, mysqldExporter: 25391, redisExporter: 25392, objectStore: 25393,
    },
  },
});
