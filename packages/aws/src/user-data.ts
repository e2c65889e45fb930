// The boot script of a front or API instance, as a pure function of its inputs (tested as text, and rehearsed
// for real by test/boot-rehearsal.test.ts). It installs the release artifact (built by `tier release`; layout in
// release-layout.ts) from the releases bucket, reads secrets from Secrets Manager at boot (never baked into the
// launch template), writes the environment file (the API's is written by @conduit/api's apiEnvironment, the same
// function the local region uses), and runs the artifact: the API tier runs `node server.mjs` under its own
// systemd unit; the front tier runs nginx with the server block shipped in its artifact.
// Boot needs nothing outside AWS: packages come from the Amazon Linux repositories (hosted in the region) and
// the release from S3. Log shipping is optional and can never stop a boot (see shipLogs).
// Bash variables are written $NAME, never with braces (Terraform would read a dollar-brace as its own
// interpolation), and the script has no double quote (cdktn refuses unescaped double quotes inside a Terraform
// function argument).

import { RELEASE_FILES, releaseDir } from './release-layout.js';

/** Amazon Linux 2023's package of a Node.js major (delivery.nodeMajor): nodejs20, nodejs22 (both put node at /usr/bin/node). */
export const nodePackage = (major: number) => `nodejs${major}`;

/** Where the optional log shipper's package is looked for in the releases bucket (uploaded by the operator). */
export const LOG_SHIPPER_KEY = 'tools/fluent-bit.rpm';

export interface UserDataInput {
  tier: 'front' | 'api';
  name: string;
  region: string;
  releasesBucket: string;
  /** The exact release this launch template version installs (the stack's `release_version` variable). */
  releaseVersion: string;
  /** Node.js major of the API instances (delivery.nodeMajor). */
  nodeMajor: number;
  /** Secrets read at boot into shell variables: variable name → secret id (name or ARN). */
  secrets: Record<string, string>;
  /** The environment file, KEY=VALUE (values may use the shell variables above and $INSTANCE_ID, $ZONE). */
  env: Record<string, string>;
  searchEndpoint: string;
}

/** The front tier: nginx serves the shipped SPA with the shipped server block (checked before it starts). */
function frontService(i: UserDataInput, dir: string): string[] {
  return [
    '# nginx serves site/ with the server block shipped in the release (listen, root and cache policy included).',
    `install -m 0644 ${dir}/${RELEASE_FILES.front.nginxConf} /etc/nginx/conf.d/${i.name}-front.conf`,
    'nginx -t',
  ];
}

/** The API tier: the bundled server under its own systemd unit, drained on SIGTERM. */
function apiService(i: UserDataInput, dir: string, unit: string): string[] {
  return [
    `cat > /etc/systemd/system/${unit}.service <<'UNIT'`,
    '[Unit]',
    `Description=${unit}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '[Service]',
    `EnvironmentFile=/etc/${i.name}/${i.tier}.env`,
    `WorkingDirectory=${dir}`,
    `ExecStart=/usr/bin/node ${RELEASE_FILES.api.server}`,
    'User=nobody',
    'Restart=always',
    'RestartSec=1',
    '# SIGTERM first: the server drains in-flight requests while the ALB deregisters the instance.',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ProtectHome=true',
    'PrivateTmp=true',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
  ];
}

/**
 * Logs to OpenSearch with fluent-bit, if the operator uploaded its package to the releases bucket. It is a
 * function called as an `if` condition: `set -e` does not apply inside, so any failure only logs one line.
 */
function shipLogs(i: UserDataInput, service: string): string[] {
  return [
    'ship_logs() {',
    `  aws s3 cp --only-show-errors --region ${i.region} s3://${i.releasesBucket}/${LOG_SHIPPER_KEY} /tmp/fluent-bit.rpm || return 1`,
    '  dnf install -y -q /tmp/fluent-bit.rpm || return 1',
    '  install -d /etc/fluent-bit',
    '  cat > /etc/fluent-bit/fluent-bit.conf <<CONF',
    '[INPUT]',
    '    Name systemd',
    `    Systemd_Filter _SYSTEMD_UNIT=${service}`,
    '[OUTPUT]',
    '    Name opensearch',
    '    Match *',
    `    Host ${i.searchEndpoint}`,
    '    Port 443',
    '    tls On',
    '    AWS_Auth On',
    `    AWS_Region ${i.region}`,
    `    Index ${i.name}-${i.tier}`,
    '    Suppress_Type_Name On',
    'CONF',
    '  systemctl enable --now fluent-bit.service',
    '}',
    `if ! ship_logs; then echo 'log shipping is off: no ${LOG_SHIPPER_KEY} in the releases bucket, or it failed to install (the service runs without it)'; fi`,
  ];
}

/** `<name>-install-release TIER VERSION DEST`: the one way a release lands on an instance (boot and migrations). */
export const installCommand = (name: string) => `/usr/local/bin/${name}-install-release`;
/** `<name>-migrate VERSION`: the deploy's one migration step, run on one API instance through SSM Run Command. */
export const migrateCommand = (name: string) => `/usr/local/bin/${name}-migrate`;

/**
 * The installer: downloads <tier>/<version>.tar.gz and its <tier>/<version>.release.json (uploaded beside it,
 * never overwritten), checks that the manifest is this version's and the artifact's own, that every file
 * matches its sha256 and that no file is unlisted, and only then moves the tree into DEST. Any mismatch
 * stops with one line and leaves DEST as it was (fail closed: a boot that stops here never starts a service).
 */
function installer(i: UserDataInput): string[] {
  const fail = (why: string) => `{ echo ${why} >&2; exit 1; }`;
  return [
    `cat > ${installCommand(i.name)} <<'INSTALL'`,
    '#!/bin/bash',
    `# ${i.name}-install-release TIER VERSION DEST: install an exact release, verified against its release.json.`,
    'set -euo pipefail',
    `[ $# -eq 3 ] || { echo 'usage: ${i.name}-install-release TIER VERSION DEST' >&2; exit 2; }`,
    'tier=$1; version=$2; dest=$3',
    'work=$(mktemp -d)',
    "trap 'rm -rf $work' EXIT",
    `aws s3 cp --only-show-errors --region ${i.region} s3://${i.releasesBucket}/$tier/$version.tar.gz $work/release.tar.gz`,
    `aws s3 cp --only-show-errors --region ${i.region} s3://${i.releasesBucket}/$tier/$version.${RELEASE_FILES.manifest} $work/${RELEASE_FILES.manifest}`,
    `[ $(jq -r .version $work/${RELEASE_FILES.manifest}) = $version ] || ${fail("install-release: $tier/$version.release.json names another version: refusing it")}`,
    'mkdir $work/tree',
    'tar -xzf $work/release.tar.gz --no-same-owner -C $work/tree',
    `cmp -s $work/${RELEASE_FILES.manifest} $work/tree/${RELEASE_FILES.manifest} || ${fail("install-release: the release.json inside $tier/$version.tar.gz differs from the uploaded one: refusing it")}`,
    '# sha256sum -c reads lines of <hash><two spaces><path>.',
    `jq -r '.files[] | .sha256, .path' $work/${RELEASE_FILES.manifest} | paste -d' ' - - | sed 's/ /  /' > $work/SHA256SUMS`,
    `(cd $work/tree && sha256sum --quiet --strict -c $work/SHA256SUMS) || ${fail('install-release: $tier/$version.tar.gz does not match the sha256 of its release.json: refusing it')}`,
    `[ $(wc -l < $work/SHA256SUMS) -eq $(cd $work/tree && find . -type f ! -path ./${RELEASE_FILES.manifest} | wc -l) ] || ${fail('install-release: $tier/$version.tar.gz holds files its release.json does not list: refusing it')}`,
    'mkdir -p $(dirname $dest) && rm -rf $dest.new && mv $work/tree $dest.new && chmod 0755 $dest.new',
    'rm -rf $dest && mv $dest.new $dest',
    "echo install-release: $tier $version verified and installed in $dest",
    'INSTALL',
    `chmod 0755 ${installCommand(i.name)}`,
  ];
}

/**
 * The migration helper (API tier): installs VERSION's artifact beside the running one, with the same checks,
 * and runs its migrate.mjs with this instance's environment file. The deploy workflow runs it once per deploy,
 * before the instance refresh (migrations are expand/contract: the running release keeps working).
 */
function migrator(i: UserDataInput): string[] {
  const dir = `/opt/${i.name}/migrate`;
  return [
    `cat > ${migrateCommand(i.name)} <<'MIGRATE'`,
    '#!/bin/bash',
    `# ${i.name}-migrate VERSION: the database migrations of release VERSION, once per deploy (never at boot).`,
    'set -euo pipefail',
    `[ $# -eq 1 ] || { echo 'usage: ${i.name}-migrate VERSION' >&2; exit 2; }`,
    `${installCommand(i.name)} api $1 ${dir}/$1`,
    `set -a && . /etc/${i.name}/${i.tier}.env && set +a`,
    `cd ${dir}/$1 && /usr/bin/node ${RELEASE_FILES.api.migrate}`,
    `cd / && rm -rf ${dir}/$1`,
    'MIGRATE',
    `chmod 0755 ${migrateCommand(i.name)}`,
  ];
}

export function userData(i: UserDataInput): string {
  const unit = `${i.name}-${i.tier}`;
  const dir = releaseDir(i.name, i.tier);
  const service = i.tier === 'front' ? 'nginx.service' : `${unit}.service`;
  const lines = [
    '#!/bin/bash',
    `# ${unit}: install the release, wire its endpoints, run it under systemd, ship its logs if it can.`,
    'set -euo pipefail',
    `dnf install -y -q ${i.tier === 'front' ? 'nginx' : nodePackage(i.nodeMajor)} tar gzip jq awscli-2`,
    '',
    '# The release is an input of the launch template: every instance it launches (a refresh, a scale-out in the',
    '# middle of a deploy) installs exactly this version, never whatever was uploaded last.',
    `RELEASE_VERSION=${i.releaseVersion}`,
    ...installer(i),
    ...(i.tier === 'api' ? migrator(i) : []),
    i.tier === 'front'
      ? `# ${RELEASE_FILES.front.site}/ and ${RELEASE_FILES.front.nginxConf} at the artifact's root.`
      : `# ${RELEASE_FILES.api.server} at the artifact's root. Migrations are not run here: one deploy step runs them.`,
    `install -d /opt/${i.name}`,
    `${installCommand(i.name)} ${i.tier} $RELEASE_VERSION ${dir}`,
    '',
    '# Secrets are read once at boot with the instance role; the file is readable by root only.',
    `secret() { aws secretsmanager get-secret-value --region ${i.region} --secret-id $1 --query SecretString --output text; }`,
    'TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H X-aws-ec2-metadata-token-ttl-seconds:60)',
    'INSTANCE_ID=$(curl -sS -H X-aws-ec2-metadata-token:$TOKEN http://169.254.169.254/latest/meta-data/instance-id)',
    'ZONE=$(curl -sS -H X-aws-ec2-metadata-token:$TOKEN http://169.254.169.254/latest/meta-data/placement/availability-zone)',
    ...Object.entries(i.secrets).map(([k, id]) => `${k}=$(secret '${id}')`),
    `install -d -m 0700 /etc/${i.name}`,
    `umask 077`,
    `cat > /etc/${i.name}/${i.tier}.env <<ENV`,
    // A value with spaces (NODE_OPTIONS) in single quotes: both systemd's EnvironmentFile and the migrate script's
    // `. file` read them as one value (no double quotes: see above); $VARIABLES are expanded by this heredoc first.
    ...Object.entries(i.env).map(([k, v]) => `${k}=${/\s/.test(v) ? `'${v}'` : v}`),
    'ENV',
    '',
    ...(i.tier === 'front' ? frontService(i, dir) : apiService(i, dir, unit)),
    'systemctl daemon-reload',
    `systemctl enable --now ${service}`,
    '',
    '# Application logs (journald) to OpenSearch over HTTPS, signed with the instance role.',
    ...shipLogs(i, service),
    '',
  ];
  return lines.join('\n');
}
