// Features off: one region, no cross-region copies, two zones, the smallest instance counts.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'conduit-small',
  regions: { primary: 'eu-west-1', secondary: null },
  zones: 2,
  front: { instances: { min: 1, desired: 2, max: 2 } },
  api: { instances: { min: 2, desired: 2, max: 4 } },
  database: { replicas: 1 },
  backup: { copyToSecondary: false },
});
