// The first deploy as one ordered script, written by `tier synth aws` to <out>/first-deploy.sh (pure: text in,
// text out; test/first-deploy.test.ts runs it with recording stand-ins for tofu and aws). Order matters:
// the groups must not start before a release and the database user exist, or every instance fails its boot.
//   1. the OpenSearch service-linked role (once per account; VPC domains need it)
//   2. the state stack, then every region with launch_instances=false (groups empty)
//   3. the release artifacts (`npx tier release`) uploaded to each region's releases bucket under their version
//      (<tier>/<version>.tar.gz + <tier>/<version>.release.json); every apply passes -var release_version=<version>
//   4. the application database user, created through the RDS Data API with the master secret (appUserSql)
//   5. every region again with launch_instances=true: the groups start and pass their health checks
//   6. the migrations, run once on one API instance through SSM Run Command (the <name>-migrate document)
//   7. the edge stack
// Every step is safe to repeat: a failed run is fixed and run again from the top.
import type { ResolvedDefinition } from '@conduit/definition';
import { APP_DB_USER, type AwsSettings } from './settings.js';
import { appUserSql } from './constructs/database.js';
import { RELEASE_FILES } from './release-layout.js';
import { deployNames } from './constructs/deploy.js';

export function firstDeployScript(def: ResolvedDefinition, settings: AwsSettings): string {
  const [primary] = settings.regions;
  const regionStacks = settings.regions.map((plan, i) => ({ stack: settings.stackNames.regions[i]!, region: plan.region }));
  const primaryStack = regionStacks[0]!.stack;
  const statements = appUserSql(def.database.databaseName).split('\n').filter(Boolean).map((sql) => sql.replace(/;$/, '').replace(':password', "'$APP_PASSWORD'"))
    // Inside bash double quotes: a backquote would start a command substitution.
    .map((sql) => sql.replaceAll('`', '\\`'));
  return [
    '#!/bin/bash',
    `# First deploy of ${def.name} (written by \`tier synth aws\`; see packages/aws/README.md, "Deploy").`,
    '# Needs: tofu or terraform >= 1.10 and the aws CLI v2 on PATH, credentials, and `npx tier release` run first.',
    '#   DOMAIN=example.com RELEASE_DIR=out/release bash out/aws/first-deploy.sh',
    'set -euo pipefail',
    'cd "$(dirname "$0")/stacks"',
    'TF=$(command -v tofu || command -v terraform || { echo "first-deploy: install OpenTofu or Terraform >= 1.10" >&2; exit 2; })',
    `DOMAIN=\${DOMAIN:-${def.edge.domain ?? ''}}`,
    '[ -n "$DOMAIN" ] || { echo "first-deploy: set DOMAIN=<a domain with a Route 53 hosted zone in this account>" >&2; exit 2; }',
    'RELEASE_DIR=$(cd "$OLDPWD" && cd "${RELEASE_DIR:-out/release}" && pwd)',
    'for a in api front; do [ -f "$RELEASE_DIR/$a/current.tar.gz" ] || { echo "first-deploy: $RELEASE_DIR/$a/current.tar.gz is missing: run npx tier release" >&2; exit 2; }; done',
    '# The version tier release recorded: what every launch template installs (release_version).',
    `VERSION=$(tar -xzOf "$RELEASE_DIR/api/current.tar.gz" ./${RELEASE_FILES.manifest} | jq -r .version)`,
    'tf() { local stack=$1; shift; (cd "$stack" && "$TF" "$@"); }',
    'out() { tf "$1" output -raw "$2"; }',
    'step() { echo; echo "== first-deploy: $*"; }',
    '',
    'step "OpenSearch service-linked role (once per account)"',
    "aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com >/dev/null 2>&1 || echo 'exists already'",
    '',
    `step "state stack ${settings.stackNames.state}"`,
    `tf ${settings.stackNames.state} init -input=false`,
    `tf ${settings.stackNames.state} apply -input=false -auto-approve`,
    ...regionStacks.flatMap(({ stack }) => [
      '',
      `step "${stack} without instances"`,
      `tf ${stack} init -input=false`,
      `tf ${stack} apply -input=false -auto-approve -var domain=$DOMAIN -var release_version=$VERSION -var launch_instances=false`,
    ]),
    ...regionStacks.flatMap(({ stack, region }) => [
      '',
      `step "release artifacts to ${stack}"`,
      `BUCKET=$(out ${stack} releases_bucket)`,
      'for a in api front; do',
      `  tar -xzOf "$RELEASE_DIR/$a/current.tar.gz" ./${RELEASE_FILES.manifest} > "$RELEASE_DIR/$a/$VERSION.${RELEASE_FILES.manifest}"`,
      `  aws s3 cp --only-show-errors --region ${region} "$RELEASE_DIR/$a/$VERSION.${RELEASE_FILES.manifest}" "s3://$BUCKET/$a/$VERSION.${RELEASE_FILES.manifest}"`,
      `  aws s3 cp --only-show-errors --region ${region} "$RELEASE_DIR/$a/current.tar.gz" "s3://$BUCKET/$a/$VERSION.tar.gz"`,
      'done',
    ]),
    '',
    `step "application database user ${APP_DB_USER} (RDS Data API, as the master user)"`,
    `APP_PASSWORD=$(aws secretsmanager get-secret-value --region ${primary!.region} --secret-id ${def.name}/db/${APP_DB_USER} --query SecretString --output text)`,
    `CLUSTER=$(out ${primaryStack} db_cluster_arn)`,
    `MASTER=$(out ${primaryStack} db_master_secret_arn)`,
    ...statements.map((sql) => `aws rds-data execute-statement --region ${primary!.region} --resource-arn "$CLUSTER" --secret-arn "$MASTER" --sql "${sql}" >/dev/null`),
    ...regionStacks.flatMap(({ stack }) => ['', `step "${stack} with instances"`, `tf ${stack} apply -input=false -auto-approve -var domain=$DOMAIN -var release_version=$VERSION -var launch_instances=true`]),
    '',
    'step "migrations, once, on one API instance (SSM Run Command)"',
    `GROUP=$(out ${primaryStack} api_asg)`,
    'for i in $(seq 1 60); do',
    `  INSTANCE=$(aws autoscaling describe-auto-scaling-groups --region ${primary!.region} --auto-scaling-group-names "$GROUP" --query "AutoScalingGroups[0].Instances[?LifecycleState=='InService'] | [0].InstanceId" --output text)`,
    '  [ -n "$INSTANCE" ] && [ "$INSTANCE" != None ] && break',
    '  sleep 10',
    'done',
    '[ -n "$INSTANCE" ] && [ "$INSTANCE" != None ] || { echo "first-deploy: no API instance in service after 10 minutes: see the group\'s activity" >&2; exit 1; }',
    `COMMAND=$(aws ssm send-command --region ${primary!.region} --instance-ids "$INSTANCE" --document-name ${deployNames(def.name, primary!.region).document} --parameters version=$VERSION --query Command.CommandId --output text)`,
    `aws ssm wait command-executed --region ${primary!.region} --command-id "$COMMAND" --instance-id "$INSTANCE"`,
    '',
    `step "edge ${settings.stackNames.edge}"`,
    `tf ${settings.stackNames.edge} init -input=false`,
    `tf ${settings.stackNames.edge} apply -input=false -auto-approve -var domain=$DOMAIN`,
    '',
    'step "deployed release $VERSION; later releases: .github/workflows/deploy.yml (or pass -var release_version=<the version running> to every apply)"',
    '',
    'step "done: https://$DOMAIN/"',
    '',
  ].join('\n');
}
