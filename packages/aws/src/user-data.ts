// The boot script of a front or API instance, as a pure function of its inputs (tested as text).
// It installs the release artifact from the releases bucket, reads secrets from Secrets Manager at boot
// (never baked into the launch template), writes the environment file, ships journald logs to OpenSearch
// with fluent-bit, and runs the artifact under systemd. Bash variables are written $NAME, never with
// braces (Terraform would read a dollar-brace as its own interpolation), and the script has no double quote
// (cdktn refuses unescaped double quotes inside a Terraform function argument).

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

export function userData(i: UserDataInput): string {
  const unit = `${i.name}-${i.tier}`;
  const lines = [
    '#!/bin/bash',
    `# ${unit}: install the release, wire its endpoints, run it under systemd, ship its logs.`,
    'set -euo pipefail',
    'dnf install -y -q nodejs20 tar gzip awscli-2',
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
    '# The release: <tier>/current.tar.gz in the releases bucket, with server.mjs at its root.',
    `install -d -o nobody -g nobody /opt/${i.name}/${i.tier}`,
    `aws s3 cp --region ${i.region} s3://${i.releasesBucket}/${i.tier}/current.tar.gz /tmp/release.tar.gz`,
    `tar -xzf /tmp/release.tar.gz -C /opt/${i.name}/${i.tier}`,
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
    `cat > /etc/systemd/system/${unit}.service <<'UNIT'`,
    '[Unit]',
    `Description=${unit}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '[Service]',
    `EnvironmentFile=/etc/${i.name}/${i.tier}.env`,
    `WorkingDirectory=/opt/${i.name}/${i.tier}`,
    'ExecStart=/usr/bin/node server.mjs',
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
    '',
    '# Application logs (journald) to OpenSearch over HTTPS, signed with the instance role.',
    `cat > /etc/fluent-bit/fluent-bit.conf <<CONF`,
    '[INPUT]',
    '    Name systemd',
    `    Systemd_Filter _SYSTEMD_UNIT=${unit}.service`,
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
    `systemctl enable --now ${unit}.service fluent-bit.service`,
    '',
  ];
  return lines.join('\n');
}
