// The local region the web browser tests bring up themselves (the default target): the defaults,
// moved to the 37xxx ports and a state folder of their own so it never collides with a developer's region.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'webtest',
  local: {
    stateDir: '../../../.test-state/web-region',
    ports: {
      edge: 37280, edgeAdmin: 37281, front: 37282, api: 37283, lbStats: 37284,
      frontInstancesBase: 37300, apiInstancesBase: 37320,
      dbWriter: 37340, dbReader: 37341, dbNodesBase: 37350,
      redisBase: 37360, sentinelBase: 37370,
      prometheus: 37390, mysqldExporter: 37391, redisExporter: 37392,
    },
  },
});
