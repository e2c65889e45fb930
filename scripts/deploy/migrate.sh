#!/usr/bin/env bash
# Runs the release's database migrations once per deploy (never from every booting instance), on one
# running API instance, through SSM Run Command with the stack's migrations document (<name>-migrate: the
# only command the deploy role may send; its version argument is validated by the document). On the
# instance, <name>-migrate downloads that version, checks it against its release.json and runs
# `node migrate.mjs` with the instance's environment file. Migrations are expand/contract (checked by
# packages/release/test/expand-contract.test.ts), so the instances still on the previous release keep
# working while the rollout replaces them.
# Usage: migrate.sh VERSION   (reads API_ASG, MIGRATE_DOCUMENT from outputs.sh; WAIT_MINUTES, default 15)
set -euo pipefail
version="${1:?usage: migrate.sh VERSION}"
: "${API_ASG:?run outputs.sh first}" "${MIGRATE_DOCUMENT:?run outputs.sh first}"
instance="$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$API_ASG" \
  --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`] | [0].InstanceId' --output text)"
if [ -z "$instance" ] || [ "$instance" = "None" ]; then
  echo "migrate: no healthy InService instance in $API_ASG to run the migrations on" >&2
  exit 1
fi
command_id="$(aws ssm send-command --instance-ids "$instance" --document-name "$MIGRATE_DOCUMENT" \
  --comment "migrations of release $version" --parameters "version=$version" \
  --query Command.CommandId --output text)"
echo "migrate: release $version on $instance (SSM command $command_id)"
deadline=$(( $(date +%s) + ${WAIT_MINUTES:-15} * 60 ))
while :; do
  status="$(aws ssm list-command-invocations --command-id "$command_id" --details --query 'CommandInvocations[0].Status' --output text)"
  case "$status" in
    Success|Failed|Cancelled|TimedOut|Undeliverable|Terminated|InvalidPlatform|AccessDenied) break ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "migrate: still $status after ${WAIT_MINUTES:-15} min" >&2; exit 1; }
  sleep 5
done
aws ssm list-command-invocations --command-id "$command_id" --details --query 'CommandInvocations[0].CommandPlugins[0].Output' --output text
if [ "$status" != "Success" ]; then
  echo "migrate: migrations of $version ended $status: the rollout stops before any instance is replaced" >&2
  exit 1
fi
