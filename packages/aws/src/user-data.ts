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

/** Node.js on the instances: the bundle targets node20 syntax; Node 20 is past its end of life, 22 is the LTS Amazon Linux 2023 ships. */
export const NODE_PACKAGE = 'nodejs22';

/** Where the optional log shipper's package is looked for in the releases bucket (uploaded by the operator). */
export const LOG_SHIPPER_KEY = 'tools/fluent-bit.rpm';

export interface UserDataInput {
  tier: 'front' | 'api';
  name: string;
  region: string;
  releasesBucket: string;
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

export function userData(i: UserDataInput): string {
  const unit = `${i.name}-${i.tier}`;
  const dir = releaseDir(i.name, i.tier);
  const service = i.tier === 'front' ? 'nginx.service' : `${unit}.service`;
  const lines = [
    '#!/bin/bash',
    `# ${unit}: install the release, wire its endpoints, run it under systemd, ship its logs if it can.`,
    'set -euo pipefail',
    `dnf install -y -q ${i.tier === 'front' ? 'nginx' : NODE_PACKAGE} tar gzip awscli-2`,
    '',
    i.tier === 'front'
      ? `# The release: front/current.tar.gz in the releases bucket, with ${RELEASE_FILES.front.site}/ and ${RELEASE_FILES.front.nginxConf} at its root.`
      : `# The release: api/current.tar.gz in the releases bucket, with ${RELEASE_FILES.api.server} at its root.`,
    `install -d -o nobody -g nobody ${dir}`,
    `aws s3 cp --only-show-errors --region ${i.region} s3://${i.releasesBucket}/${i.tier}/current.tar.gz /tmp/release.tar.gz`,
    `tar -xzf /tmp/release.tar.gz --no-same-owner -C ${dir}`,
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
    ...Object.entries(i.env).map(([k, v]) => `${k}=${v}`),
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
