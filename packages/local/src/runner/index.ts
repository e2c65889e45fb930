// The only place that spawns processes or opens admin connections.
export * from './spawn.js';
export * from './probe.js';
export * from './admin.js';
export * from './control.js';
