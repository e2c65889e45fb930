#!/usr/bin/env bash
# Runs the release's database migrations once per deploy (never from every booting instance), on one
# running API instance through SSM Run Command: it downloads the version, checks its sha256 and runs
# `node migrate.mjs` with the instance's own environment file. Migrations are expand/contract, so the
# instances still on the previous release keep working while the rollout replaces them.
# Usage: migrate.sh VERSION
set -euo pipefail
version="${1:?usage: migrate.sh VERSION}"
: "${API_ASG:?run outputs.sh first}" "${RELEASES_BUCKET:?run outputs.sh first}"
instance="$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$API_ASG" \
  --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`] | [0].InstanceId' --output text)"
if [ -z "$instance" ] || [ "$instance" = "None" ]; then
  echo "migrate: no healthy InService instance in $API_ASG to run the migrations on" >&2
  exit 1
fi
command_id="$(aws ssm send-command --instance-ids "$instance" --document-name AWS-RunShellScript \
  --comment "migrations of release $version" \
  --parameters "commands=[\"/usr/local/bin/conduit-migrate $version\"]" \
  --query Command.CommandId --output text)"
echo "migrate: release $version on $instance (SSM command $command_id)"
aws ssm wait command-executed --command-id "$command_id" --instance-id "$instance" || true
status="$(aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" --query Status --output text)"
aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" --query StandardOutputContent --output text
if [ "$status" != "Success" ]; then
  aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" --query StandardErrorContent --output text >&2
  echo "migrate: migrations of $version ended $status: the rollout stops before any instance is replaced" >&2
  exit 1
fi
