// The only place that spawns processes or opens admin connections (MariaDB, HAProxy, Redis, the
// supervisor's control socket, openssl for the database TLS files), plus probes, waits and process identity.
export * from './spawn.js';
export * from './process.js';
export * from './probe.js';
export * from './mariadb.js';
export * from './haproxy.js';
export * from './redis.js';
export * from './control.js';
export * from './tls.js';
export * from './stream.js';
