// Pure functions: resolved definition (+ topology, secrets, paths) → config text. No I/O here.
export { haproxyConfig, type HaproxyInput } from './haproxy.js';
export { varnishVcl } from './varnish.js';
export { mariadbCnf, mysqldExporterCnf, dbDataDir, dbSocket, dbCnfFile, dbTmpDir } from './mariadb.js';
export { redisConf, sentinelConf, redisConfFile, sentinelConfFiles } from './redis.js';
export { prometheusConfig, apiTargets, apiTargetsFile, prometheusRulesFile } from './prometheus.js';
export { prometheusRules } from './alerts.js';
export { nginxConf, nginxConfFile, nginxPrefix, nginxServerBlock, placeholderIndexHtml, type NginxServerBlock } from './nginx.js';
export { alertmanagerConfig, blackboxConfig, blackboxTargets } from './alerting.js';
