#!/usr/bin/env bash
# Waits for the newest instance refresh of the API and front groups. When both succeeded, makes each new
# launch template version the default (what the groups and Terraform then follow) and exits 0; when one
# failed, was cancelled or rolled back, exits 1: the group is back on the previous release, the new version
# stays unused, and deploy.yml does not go on to the next region.
# Usage: wait-refresh.sh   (reads DEPLOY_SETTINGS, API_TEMPLATE_VERSION, FRONT_TEMPLATE_VERSION; WAIT_MINUTES, default 45)
set -euo pipefail
: "${DEPLOY_SETTINGS:?run outputs.sh first}" "${API_TEMPLATE_VERSION:?run apply-version.sh first}" "${FRONT_TEMPLATE_VERSION:?run apply-version.sh first}"
deadline=$(( $(date +%s) + ${WAIT_MINUTES:-45} * 60 ))
for tier in api front; do
  asg="$(jq -r ".groups.$tier.name" "$DEPLOY_SETTINGS")"
  while :; do
    read -r status pct <<<"$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" --max-records 1 \
      --query 'InstanceRefreshes[0].[Status,PercentageComplete]' --output text)"
    echo "wait-refresh: $asg $status ${pct:-0} %"
    case "$status" in
      Successful) break ;;
      Failed|Cancelled|RollbackSuccessful|RollbackFailed|None)
        echo "wait-refresh: $asg refresh ended $status: the group keeps the previous release" >&2; exit 1 ;;
      # Pending, InProgress, Baking, Cancelling, RollbackInProgress: still moving.
    esac
    [ "$(date +%s)" -lt "$deadline" ] || { echo "wait-refresh: $asg still $status after ${WAIT_MINUTES:-45} min" >&2; exit 1; }
    sleep 15
  done
done
for tier in api front; do
  template="$(jq -r ".groups.$tier.launchTemplateId" "$DEPLOY_SETTINGS")"
  var="${tier^^}_TEMPLATE_VERSION"
  aws ec2 modify-launch-template --launch-template-id "$template" --default-version "${!var}" >/dev/null
  echo "wait-refresh: $template default version ${!var}"
done
