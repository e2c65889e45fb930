// Writes every generated config into <stateDir>/config (and the data folders they point at).
// The text comes from the pure generators; this file only puts it on disk.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import {
  haproxyConfig, varnishVcl, mariadbCnf, mysqldExporterCnf, redisConf, sentinelConf, prometheusConfig, apiTargets, prometheusRules, alertmanagerConfig, blackboxConfig,
  pdnsConf, pdnsNamedConf, pdnsZone, runsDns,
} from '../generators/index.js';
import { cacheDataDir, dbCnfFile, dbSocketDir, dbTmpDir, nginxPrefix, redisConfFile, sentinelConfFiles } from '../paths.js';
import { writeFileAtomic } from '../state.js';
import type { CacheNode, DbNode } from '@conduit/definition';
import type { SpecContext } from '../specs/processes.js';
import type { DbTopology } from '../types.js';

/**
 * The system user a daemon's Debian package created (`haproxy`), when the region runs as root: the daemon
 * switches to it after binding. undefined when the region runs as another user (it cannot switch) or the
 * user does not exist.
 */
export function unprivilegedUser(name: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`)) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * HAProxy's config from the DB topology and the instances to enable (default: the first `desired`
 * slots). A replacement HAProxy starts from one regenerated with the topology and instances of the moment.
 */
export function writeHaproxyConfig(ctx: SpecContext, topology: DbTopology, activeInstances?: string[]): string {
  writeFileAtomic(ctx.paths.haproxyConfig, haproxyConfig({ definition: ctx.definition, paths: ctx.paths, topology, activeInstances, runAs: unprivilegedUser('haproxy') }));
  return ctx.paths.haproxyConfig;
}

/** A folder only the region's user enters (chmod also tightens one created before). */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** A Redis node's config; with currentPrimaryPort (Sentinel moved the primary) it starts as that node's replica. */
export function writeRedisConfig(ctx: SpecContext, node: CacheNode, currentPrimaryPort?: number): string {
  privateDir(cacheDataDir(ctx.paths, node));
  // Mode 600: it holds the ACL users' passwords.
  writeFileAtomic(redisConfFile(ctx.paths, node), redisConf(ctx.definition, node, ctx.paths, ctx.secrets, currentPrimaryPort), 0o600);
  return redisConfFile(ctx.paths, node);
}

/** A database node's cnf for its role in `topology` (its crash recovery depends on it): before every (re)start. */
export function writeDbConfig(ctx: SpecContext, node: DbNode, topology: DbTopology | null): string {
  writeFileAtomic(dbCnfFile(ctx.paths, node), mariadbCnf(ctx.definition, node, ctx.paths, topology?.primary === node.name ? 'primary' : 'replica'));
  return dbCnfFile(ctx.paths, node);
}

export function writeConfigs(ctx: SpecContext, topology: DbTopology): { files: string[] } {
  const { definition: d, paths, secrets } = ctx;
  for (const dir of [paths.config, paths.data, paths.logs, paths.run]) mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (file: string, text: string, mode = 0o644) => {
    writeFileAtomic(file, text, mode);
    files.push(file);
  };

  files.push(writeHaproxyConfig(ctx, topology));
  write(paths.varnishVcl, varnishVcl(d));
  // Only the region's user reaches the MariaDB sockets (mode 700; chmod also tightens an existing folder).
  privateDir(dbSocketDir(paths));
  for (const n of d.dbNodes) {
    mkdirSync(dbTmpDir(paths, n), { recursive: true });
    files.push(writeDbConfig(ctx, n, topology));
  }
  write(paths.mysqldExporterCnf, mysqldExporterCnf(d, secrets), 0o600);
  for (const n of d.cacheNodes) files.push(writeRedisConfig(ctx, n));
  for (const s of d.sentinelNodes) {
    privateDir(cacheDataDir(paths, s));
    const files = sentinelConfFiles(paths, s);
    write(files.generated, sentinelConf(d, s, paths, secrets), 0o600);
    // A cold start begins from the definition; restarts in between keep what Sentinel learned.
    rmSync(files.live, { force: true });
  }
  write(paths.prometheusConfig, prometheusConfig(d, paths));
  write(paths.prometheusRules, prometheusRules(d));
  write(paths.alertmanagerConfig, alertmanagerConfig(d));
  write(paths.blackboxConfig, blackboxConfig());
  if (!existsSync(paths.prometheusApiTargets)) write(paths.prometheusApiTargets, apiTargets([]));
  if (runsDns(d)) files.push(...writeDnsConfig(ctx));

  // Every slot up to max gets its temp folder; its nginx.conf comes with each installed release (releases.ts).
  for (const slot of d.frontSlots) mkdirSync(nginxPrefix(paths, slot), { recursive: true });
  // Varnish drops privileges: its users must reach the work dir.
  mkdirSync(paths.varnishWorkdir, { recursive: true });
  chmodSync(paths.varnishWorkdir, 0o755);
  return { files };
}

/** PowerDNS's files, also before each restart of the server: its zone carries that start's warm-up deadline. */
export function writeDnsConfig(ctx: SpecContext): string[] {
  const { definition: d, paths } = ctx;
  const pdns = { dir: paths.pdnsDir, socketDir: paths.run };
  mkdirSync(paths.pdnsDir, { recursive: true });
  const files: Array<[string, string]> = [
    [`${paths.pdnsDir}/pdns.conf`, pdnsConf(d, pdns)],
    [`${paths.pdnsDir}/named.conf`, pdnsNamedConf(d, pdns)],
    [`${paths.pdnsDir}/zone.db`, pdnsZone(d)],
  ];
  for (const [file, text] of files) writeFileAtomic(file, text, 0o644);
  return files.map(([file]) => file);
}
