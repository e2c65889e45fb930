// Writes every generated config into <stateDir>/config (and the data folders they point at).
// The text comes from the pure generators; this file only puts it on disk.
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  haproxyConfig, varnishVcl, mariadbCnf, mysqldExporterCnf, dbCnfFile, dbTmpDir, redisConf, redisConfFile, sentinelConf,
  sentinelConfFiles, prometheusConfig, apiTargetsFile, apiTargets, prometheusRules, prometheusRulesFile, alertmanagerConfig, blackboxConfig, nginxConf, nginxConfFile, nginxPrefix, placeholderIndexHtml,
} from '../generators/index.js';
import { webDistDir } from '../paths.js';
import { writeFileAtomic } from '../state.js';
import type { SpecContext } from '../commands/processes.js';
import type { DbTopology } from '../types.js';

/** The folder the front instances serve: the built SPA, or a placeholder page when it is not built. */
export function siteRoot(ctx: SpecContext): { root: string; placeholder: boolean } {
  if (existsSync(join(webDistDir, 'index.html'))) return { root: webDistDir, placeholder: false };
  return { root: ctx.paths.placeholderSite, placeholder: true };
}

export function writeConfigs(ctx: SpecContext, topology: DbTopology): { files: string[]; placeholder: boolean } {
  const { definition: d, paths, secrets } = ctx;
  for (const dir of [paths.config, paths.data, paths.logs, paths.run]) mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (file: string, text: string, mode = 0o644) => {
    writeFileAtomic(file, text, mode);
    files.push(file);
  };

  write(join(paths.config, 'haproxy.cfg'), haproxyConfig({ definition: d, paths, topology }));
  write(join(paths.config, 'default.vcl'), varnishVcl(d));
  for (const n of d.dbNodes) {
    mkdirSync(dbTmpDir(paths, n), { recursive: true });
    write(dbCnfFile(paths, n), mariadbCnf(d, n, paths));
  }
  write(join(paths.config, 'mysqld-exporter.cnf'), mysqldExporterCnf(d, secrets), 0o600);
  for (const n of d.cacheNodes) {
    mkdirSync(join(paths.data, n.name), { recursive: true });
    write(redisConfFile(paths, n), redisConf(d, n, paths));
  }
  for (const s of d.sentinelNodes) {
    mkdirSync(join(paths.data, s.name), { recursive: true });
    const files = sentinelConfFiles(paths, s);
    write(files.generated, sentinelConf(d, s, paths));
    // A cold start begins from the definition; restarts in between keep what Sentinel learned.
    rmSync(files.live, { force: true });
  }
  write(join(paths.config, 'prometheus.yml'), prometheusConfig(d, paths));
  write(prometheusRulesFile(paths), prometheusRules(d));
  write(join(paths.config, 'alertmanager.yml'), alertmanagerConfig(d));
  write(join(paths.config, 'blackbox.yml'), blackboxConfig());
  if (!existsSync(apiTargetsFile(paths))) write(apiTargetsFile(paths), apiTargets([]));

  const site = siteRoot(ctx);
  if (site.placeholder) write(join(site.root, 'index.html'), placeholderIndexHtml(d));
  // Every slot up to max gets a config: the autoscaler starts spare slots without regenerating.
  for (const slot of d.frontSlots) {
    mkdirSync(nginxPrefix(paths, slot), { recursive: true });
    write(nginxConfFile(paths, slot), nginxConf(d, slot, site.root, paths));
  }
  // Varnish drops privileges: its users must reach the work dir.
  mkdirSync(paths.varnishWorkdir, { recursive: true });
  chmodSync(paths.varnishWorkdir, 0o755);
  return { files, placeholder: site.placeholder };
}
