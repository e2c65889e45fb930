// The deployment definition: the one place where counts, ports, zones, thresholds and policies are set.
// `npm start` runs it as the local region; `npx tier synth aws` turns it into Terraform.
// Every field is optional; packages/definition/src/schema.ts documents each default.
import { defineStack } from '@conduit/definition';

export default defineStack({
  name: 'conduit',
  // The secondary region is a warm standby: every tier, fewer instances (both regions fit 2.5 GB on one machine).
  regions: { primary: 'eu-west-1', secondary: 'eu-central-1', secondaryScale: { front: 2, api: 2, databaseReplicas: 1 } },
  zones: 3,
  front: { instances: { min: 2, desired: 3, max: 6 } },
  api: { instances: { min: 3, desired: 3, max: 9 } },
  database: { replicas: 2 },
  delivery: { githubRepository: 'conduit-platform/conduit' },
  cache: { replicas: 1, sentinels: 3, quorum: 2 },
});
