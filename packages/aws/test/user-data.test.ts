// The instance boot script is a pure function: assert on its text.
import { describe, expect, it } from 'vitest';
import { userData } from '../src/user-data.js';
import { archFor, shortName, subnetCidrs } from '../src/settings.js';
import { backupSchedule } from '../src/constructs/backup.js';
import { appUserSql } from '../src/constructs/database.js';

const script = userData({
  tier: 'api', name: 'conduit', region: 'eu-west-1', releasesBucket: 'rel-bucket',
  env: { DATABASE_WRITER_URL: 'mysql://conduit_app:$DB_PASSWORD@writer:3306/conduit', JWT_SECRET: '$JWT_SECRET', PORT: '3000', PUBLIC_URL: 'https://conduit.example.com' },
  secrets: { DB_PASSWORD: 'conduit/db/conduit_app', JWT_SECRET: 'conduit/api/jwt' },
  searchEndpoint: 'search.internal', releaseVersion: '0123abc', nodeMajor: 22,
});

const front = userData({
  tier: 'front', name: 'conduit', region: 'eu-west-1', releasesBucket: 'rel-bucket',
  env: {}, secrets: {}, searchEndpoint: 'search.internal', releaseVersion: '0123abc', nodeMajor: 22,
});

describe('user data', () => {
  it('installs the release, reads secrets at boot and runs the artifact under systemd', () => {
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    // The exact version of the launch template, through the verifying installer (the boot rehearsal runs it).
    expect(script).toContain('RELEASE_VERSION=0123abc\n');
    expect(script).toContain('aws s3 cp --only-show-errors --region eu-west-1 s3://rel-bucket/$tier/$version.tar.gz');
    expect(script).toMatch(/\n\/usr\/local\/bin\/conduit-install-release api \$RELEASE_VERSION \/opt\/conduit\/api\n/);
    expect(script).not.toContain('current.tar.gz');
    // Migrations only through the helper, never at boot.
    expect(script.match(/migrate\.mjs/g)).toHaveLength(1);
    expect(script).toContain('cd /opt/conduit/migrate/$1 && /usr/bin/node migrate.mjs');
    expect(script).toContain("DB_PASSWORD=$(secret 'conduit/db/conduit_app')");
    expect(script).toContain('DATABASE_WRITER_URL=mysql://conduit_app:$DB_PASSWORD@writer:3306/conduit');
    expect(script).toContain('JWT_SECRET=$JWT_SECRET');
    // The password only reaches the env file inside the URL, not as its own variable.
    expect(script).not.toMatch(/^DB_PASSWORD=\$DB_PASSWORD$/m);
    expect(script).toContain('ExecStart=/usr/bin/node server.mjs');
    expect(script).toContain('PORT=3000');
    expect(script).toContain('systemctl enable --now conduit-api.service\n');
    expect(script).toContain('dnf install -y -q nodejs22 tar gzip jq awscli-2');
    // delivery.nodeMajor picks the package.
    expect(userData({ tier: 'api', name: 'c', region: 'r', releasesBucket: 'b', env: {}, secrets: {}, searchEndpoint: 's', releaseVersion: 'v', nodeMajor: 20 })).toContain('dnf install -y -q nodejs20 ');
    expect(script).not.toContain('nginx');
  });

  it('runs the front tier with nginx and the server block shipped in the release, not node', () => {
    expect(front).toContain('dnf install -y -q nginx tar gzip jq awscli-2');
    expect(front).toMatch(/\n\/usr\/local\/bin\/conduit-install-release front \$RELEASE_VERSION \/opt\/conduit\/front\n/);
    expect(front).not.toContain('conduit-migrate');
    expect(front).toContain('install -m 0644 /opt/conduit/front/nginx.conf /etc/nginx/conf.d/conduit-front.conf');
    expect(front).toMatch(/nginx -t\n/);
    expect(front).toContain('Systemd_Filter _SYSTEMD_UNIT=nginx.service');
    expect(front).toContain('systemctl enable --now nginx.service\n');
    expect(front).not.toContain('node');
    expect(front).not.toContain('/etc/systemd/system/');
    expect(front).not.toContain('${');
    expect(front).not.toContain('"');
  });

  it('needs nothing outside AWS to boot; log shipping is optional and cannot stop the boot', () => {
    for (const s of [script, front]) {
      // The only URLs: the instance metadata service (and the site's public URL in the API's environment).
      expect(s.replace(/^PUBLIC_URL=.*$/m, '')).not.toMatch(/https?:\/\/(?!169\.254\.169\.254\/)/);
      expect(s).not.toContain('yum.repos.d');
      // ship_logs runs as an if-condition (set -e does not apply there) after the service started.
      expect(s.indexOf('if ! ship_logs; then')).toBeGreaterThan(s.indexOf('systemctl enable --now'));
    }
  });

  it('uses IMDSv2 tokens and ships logs to OpenSearch with SigV4', () => {
    expect(script).toContain('X-aws-ec2-metadata-token:$TOKEN');
    expect(script).toMatch(/Host search\.internal\n\s+Port 443\n\s+tls On\n\s+AWS_Auth On/);
  });

  it('has no dollar-brace (Terraform interpolation) and no double quote (cdktn function arguments)', () => {
    expect(script).not.toContain('${');
    expect(script).not.toContain('"');
  });
});

describe('derived AWS settings', () => {
  it('splits a /16 into non-overlapping public, private and isolated subnets per zone', () => {
    const cidrs = [0, 1, 2].flatMap((z) => Object.values(subnetCidrs('10.16.0.0/16', z)));
    expect(new Set(cidrs).size).toBe(9);
    expect(subnetCidrs('10.16.0.0/16', 2)).toEqual({ public: '10.16.2.0/24', private: '10.16.48.0/20', isolated: '10.16.130.0/24' });
  });

  it('boots Graviton types on arm64 and the rest on x86_64', () => {
    expect(['t4g.micro', 'c7g.large', 'm6gd.xlarge', 'c7gn.large'].map(archFor)).toEqual(['arm64', 'arm64', 'arm64', 'arm64']);
    expect(['m5.large', 'g5.xlarge', 't3.small'].map(archFor)).toEqual(['x86_64', 'x86_64', 'x86_64']);
  });

  it('keeps AWS names within their length limit', () => {
    expect(shortName('a-very-long-deployment-name-x', 'front-tg').length).toBeLessThanOrEqual(32);
    expect(shortName('a-very-long-deployment-name-x', 'front-tg').endsWith('-front-tg')).toBe(true);
    expect(shortName('conduit', 'api')).toBe('conduit-api');
  });

  it('turns backup.fullEveryHours and the window into an AWS Backup schedule', () => {
    // From the end of the window: never during Aurora's own automated backup.
    expect(backupSchedule(24, '02:00-03:00')).toBe('cron(0 3 * * ? *)');
    expect(backupSchedule(6, '02:00-03:00')).toBe('cron(0 3,9,15,21 * * ? *)');
    expect(backupSchedule(12, '20:00-21:00')).toBe('cron(0 9,21 * * ? *)');
  });

  it('creates the application user with DML and schema rights on its database only, TLS required', () => {
    const sql = appUserSql('conduit');
    expect(sql).toContain("CREATE USER IF NOT EXISTS 'conduit_app'@'%' IDENTIFIED BY :password REQUIRE SSL;");
    expect(sql).toContain('ON `conduit`.* TO');
    expect(sql).not.toMatch(/ON \*\.\*/);
  });
});
