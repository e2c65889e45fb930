// @conduit/console — the ops console: topology drawn from the definition, log index and search, charts, alerts.
export * from './topology/index.js';
export * from './logs/index.js';
export { buildConsole, type ConsoleDeps } from './server/app.js';
export { AlertStore, webhookSchema, type AlertEntry } from './server/alerts.js';
export { SampleSeries, prometheusPanel, type PanelData } from './server/metrics.js';
