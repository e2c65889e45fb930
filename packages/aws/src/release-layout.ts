// What a release artifact holds and where it lands on an instance: shared by the boot script (user-data.ts)
// and the release builder (packages/release), so both sides name the same files. Pure constants.
import { APP_PORTS } from './settings.js';

export { APP_PORTS };

/** Where `<tier>/current.tar.gz` is unpacked on an instance. */
export const releaseDir = (name: string, tier: 'front' | 'api') => `/opt/${name}/${tier}`;

/** Files at the root of each tier's artifact. */
export const RELEASE_FILES = {
  /** Manifest of every artifact: version (git commit), build time, sha256 of each file. */
  manifest: 'release.json',
  /** API: the bundled server (run with `node server.mjs`), the bundled migrate command and its SQL files. */
  api: { server: 'server.mjs', migrate: 'migrate.mjs', migrations: 'migrations' },
  /** Front: the built SPA and the nginx server block that serves it (an http-level include). */
  front: { site: 'site', nginxConf: 'nginx.conf' },
} as const;
