export * from './processes.js';
export * from './db.js';
