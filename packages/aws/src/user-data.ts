// The boot script of a front or API instance, as a pure function of its inputs (tested as text).
// It installs the release artifact (built by `tier release`; layout in release-layout.ts) from the releases
// bucket, reads secrets from Secrets Manager at boot (never baked into the launch template), writes the
// environment file, ships journald logs to OpenSearch with fluent-bit, and runs the artifact: the API tier
// runs `node server.mjs` under its own systemd unit; the front tier runs nginx with the server block shipped
// in its artifact (rendered by the same generator as the local region's front instances). Bash variables
// are written $NAME, never with braces (Terraform would read a dollar-brace as its own interpolation), and
// the script has no double quote (cdktn refuses unescaped double quotes inside a Terraform function argument).

import { RELEASE_FILES, releaseDir } from './release-layout.js';

export interface UserDataInput {
  tier: 'front' | 'api';
  name: string;
  region: string;
  port: number;
  releasesBucket: string;
  /** Plain environment variables (tokens allowed: they resolve to Terraform references). */
  env: Record<string, string>;
  /** Secrets read at boot: variable name → secret id (name or ARN). */
  secrets: Record<string, string>;
  /** Variables assembled at boot from other variables, in bash syntax using $NAME (e.g. URLs with passwords). */
  derived: Record<string, string>;
  searchEndpoint: string;
}

const q = (s: string) => `'${s}'`;

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

export function userData(i: UserDataInput): string {
  const unit = `${i.name}-${i.tier}`;
  const dir = releaseDir(i.name, i.tier);
  const service = i.tier === 'front' ? 'nginx.service' : `${unit}.service`;
  const lines = [
    '#!/bin/bash',
    `# ${unit}: install the release, wire its endpoints, run it under systemd, ship its logs.`,
    'set -euo pipefail',
    `dnf install -y -q ${i.tier === 'front' ? 'nginx' : 'nodejs20'} tar gzip awscli-2`,
    `cat > /etc/yum.repos.d/fluent-bit.repo <<'REPO'`,
    '[fluent-bit]',
    'name=Fluent Bit',
    'baseurl=https://packages.fluentbit.io/amazonlinux/2023/',
    'gpgcheck=1',
    'gpgkey=https://packages.fluentbit.io/fluentbit.key',
    'enabled=1',
    'REPO',
    'dnf install -y -q fluent-bit',
    '',
    i.tier === 'front'
      ? `# The release: front/current.tar.gz in the releases bucket, with ${RELEASE_FILES.front.site}/ and ${RELEASE_FILES.front.nginxConf} at its root.`
      : `# The release: api/current.tar.gz in the releases bucket, with ${RELEASE_FILES.api.server} at its root.`,
    `install -d -o nobody -g nobody ${dir}`,
    `aws s3 cp --region ${i.region} s3://${i.releasesBucket}/${i.tier}/current.tar.gz /tmp/release.tar.gz`,
    `tar -xzf /tmp/release.tar.gz --no-same-owner -C ${dir}`,
    '',
    '# Secrets are read once at boot with the instance role; the file is readable by root only.',
    `secret() { aws secretsmanager get-secret-value --region ${i.region} --secret-id $1 --query SecretString --output text; }`,
    'TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H X-aws-ec2-metadata-token-ttl-seconds:60)',
    'INSTANCE_ID=$(curl -sS -H X-aws-ec2-metadata-token:$TOKEN http://169.254.169.254/latest/meta-data/instance-id)',
    'ZONE=$(curl -sS -H X-aws-ec2-metadata-token:$TOKEN http://169.254.169.254/latest/meta-data/placement/availability-zone)',
    ...Object.entries(i.secrets).map(([k, id]) => `${k}=$(secret ${q(id)})`),
    ...Object.entries(i.derived).map(([k, v]) => `${k}=${v}`),
    `install -d -m 0700 /etc/${i.name}`,
    `umask 077`,
    `cat > /etc/${i.name}/${i.tier}.env <<ENV`,
    `PORT=${i.port}`,
    'HOST=0.0.0.0',
    'NODE_ENV=production',
    'INSTANCE_ID=$INSTANCE_ID',
    'ZONE=$ZONE',
    ...Object.entries(i.env).map(([k, v]) => `${k}=${v}`),
    ...Object.keys(i.derived).map((k) => `${k}=$${k}`),
    ...Object.keys(i.secrets).filter((k) => !Object.values(i.derived).some((v) => v.includes(`$${k}`))).map((k) => `${k}=$${k}`),
    'ENV',
    '',
    ...(i.tier === 'front' ? frontService(i, dir) : apiService(i, dir, unit)),
    '',
    '# Application logs (journald) to OpenSearch over HTTPS, signed with the instance role.',
    `cat > /etc/fluent-bit/fluent-bit.conf <<CONF`,
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
    'systemctl daemon-reload',
    `systemctl enable --now ${service} fluent-bit.service`,
    '',
  ];
  return lines.join('\n');
}
