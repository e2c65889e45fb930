// @conduit/console — the ops console: topology drawn from the definition, log index and search, charts, alerts.
export * from './topology/index.js';
export * from './logs/index.js';
