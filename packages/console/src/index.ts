// @conduit/console — the ops console: topology drawn from the definition, log index and search, charts, alerts.
export * from './topology/index.js';
export * from './logs/index.js';
export { buildConsole, type ConsoleDeps, type LogSearch } from './server/app.js';
export { AlertStore, webhookSchema, type AlertEntry } from './server/alerts.js';
export { prometheusPanel, type PanelData } from './server/metrics.js';
export { ProcessMetrics, processTree, readProcess } from './server/process-metrics.js';
export { LogWorkerClient } from './logs/worker-client.js';
export { runJsonChild } from './server/child.js';
