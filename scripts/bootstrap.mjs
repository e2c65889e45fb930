// Installs what the project needs on a fresh Debian machine, and nothing when it is already there.
// Plain JavaScript with no dependencies: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Each system component the project runs, the binary that proves it is installed, and its Debian package.
export const systemPackages = [
  { bin: '/usr/sbin/mariadbd', pkg: 'mariadb-server', for: 'database' },
  { bin: '/usr/bin/mariadb-backup', pkg: 'mariadb-backup', for: 'database backups' },
  { bin: '/usr/bin/zstd', pkg: 'zstd', for: 'backup compression' },
  { bin: '/usr/bin/redis-server', pkg: 'redis-server', for: 'cache' },
  { bin: '/usr/bin/redis-sentinel', pkg: 'redis-sentinel', for: 'cache failover' },
  { bin: '/usr/sbin/haproxy', pkg: 'haproxy', for: 'load balancers' },
  { bin: '/usr/sbin/nginx', pkg: 'nginx-light', for: 'front tier' },
  { bin: '/usr/sbin/varnishd', pkg: 'varnish', for: 'edge cache' },
  // xkey: the edge purges what a write changed by surrogate key (Debian's multiarch library folder).
  { bin: `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/varnish/vmods/libvmod_xkey.so`, pkg: 'varnish-modules', for: 'edge purges' },
  { bin: '/usr/bin/prometheus', pkg: 'prometheus', for: 'metrics' },
  { bin: '/usr/bin/prometheus-mysqld-exporter', pkg: 'prometheus-mysqld-exporter', for: 'database metrics' },
  { bin: '/usr/bin/prometheus-redis-exporter', pkg: 'prometheus-redis-exporter', for: 'cache metrics' },
  { bin: '/usr/bin/prometheus-alertmanager', pkg: 'prometheus-alertmanager', for: 'alert routing to the console' },
  { bin: '/usr/bin/prometheus-blackbox-exporter', pkg: 'prometheus-blackbox-exporter', for: 'synthetic checks through the edge' },
  { bin: '/usr/bin/chromium', pkg: 'chromium', for: 'browser tests' },
  { bin: '/usr/bin/wrk', pkg: 'wrk', for: 'the API benchmark (npm run bench:api)' },
  { bin: '/usr/bin/openssl', pkg: 'openssl', for: 'the database TLS certificates of each region' },
  { bin: '/usr/sbin/pdns_server', pkg: 'pdns-server', for: 'the global DNS entry point (failover between the two regions)' },
  { bin: `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/pdns/libbindbackend.so`, pkg: 'pdns-backend-bind', for: 'the DNS zone files' },
  { bin: '/usr/bin/dig', pkg: 'dnsutils', for: 'asking the DNS entry point by hand (`tier status` prints the dig command)' },
];

const say = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

export function ensureSystemPackages(list = systemPackages) {
  const missing = list.filter((p) => !existsSync(p.bin));
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((p) => p.pkg))];
  if (process.getuid?.() !== 0) {
    say(`missing Debian packages: ${names.join(' ')}. Run: sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`);
    process.exit(1);
  }
  say(`installing Debian packages (about a minute the first time): ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) {
      say(`apt-get ${args.join(' ')} failed (exit ${r.status}); fix apt and run the command again`);
      process.exit(1);
    }
  };
  run(['update', '-q']);
  run(['install', '-y', '-q', ...names]);
}

export function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)) return;
  say('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
}

export function bootstrap() {
  ensureNodeModules();
  ensureSystemPackages();
}

if (import.meta.url === `file://${process.argv[1]}`) bootstrap();
