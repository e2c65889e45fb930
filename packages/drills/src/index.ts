// Drills: open-model load, the write ledger and its set checker, the report, and the failure scenarios.
export * from './ledger.js';
export * from './load.js';
export * from './stats.js';
export * from './report.js';
export * from './workload.js';
export * from './region.js';
export * from './drill.js';
export * from './scenarios.js';
export * from './consistency.js';
export * from './dr.js';
export * from './drop-table.js';
export * from './capacity.js';
export * from './capacity-chart.js';
export * from './scale-out.js';
export * from './dns.js';
export * from './region-loss.js';
export * from './region-roles.js';
