// Pure functions: resolved definition (+ topology, secrets, paths) → config text. No I/O here.
export { haproxyConfig, haproxyGlobalAndDefaults, haproxyApiLoadBalancer, BACKENDS, type HaproxyInput } from './haproxy.js';
export { varnishVcl } from './varnish.js';
export { mariadbCnf, mysqldExporterCnf } from './mariadb.js';
export { redisConf, sentinelConf } from './redis.js';
export { prometheusConfig, apiTargets } from './prometheus.js';
export { prometheusRules } from './alerts.js';
export { nginxConf } from './nginx.js';
export { alertmanagerConfig, blackboxConfig, blackboxTargets } from './alerting.js';
export { pdnsConf, pdnsNamedConf, pdnsZone, dnsZone, dnsServers, runsDns, type PdnsFiles } from './pdns.js';
