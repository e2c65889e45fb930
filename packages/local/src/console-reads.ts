// What the ops console reads of a region, as a narrow entry (`@conduit/local/console-reads`): the console
// runs as a bundle with a 100 MB budget, and the package index also exports the backup code (the AWS SDK)
// and every command, which a bundle of the index would carry along (about +20 MB of RSS, measured).
export { regionStatus, type RegionStatus } from './region/status.js';
export { statePaths } from './paths.js';
export { httpGet } from './runner/probe.js';
export { runsDns } from './generators/pdns.js';
export { readSupervisorLine } from './supervisor/log-line.js';
export type { RegionPlan } from './supervisor/plan.js';
