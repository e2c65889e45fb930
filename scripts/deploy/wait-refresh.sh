#!/usr/bin/env bash
# Waits for the newest instance refresh of the API and front Auto Scaling groups. Exits 0 when both
# succeeded, 1 when one failed, was cancelled or rolled back (the region keeps the previous release,
# and deploy.yml does not go on to the next region).
# Usage: wait-refresh.sh   (reads API_ASG and FRONT_ASG; WAIT_MINUTES, default 45)
set -euo pipefail
: "${API_ASG:?run outputs.sh first}" "${FRONT_ASG:?run outputs.sh first}"
deadline=$(( $(date +%s) + ${WAIT_MINUTES:-45} * 60 ))
for asg in "$API_ASG" "$FRONT_ASG"; do
  while :; do
    read -r status pct <<<"$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" --max-records 1 \
      --query 'InstanceRefreshes[0].[Status,PercentageComplete]' --output text)"
    echo "wait-refresh: $asg $status ${pct:-0} %"
    case "$status" in
      Successful|None) break ;;
      Failed|Cancelled|RollbackSuccessful|RollbackFailed)
        echo "wait-refresh: $asg refresh ended $status" >&2; exit 1 ;;
      # Pending, InProgress, Baking, Cancelling, RollbackInProgress: still moving.
    esac
    [ "$(date +%s)" -lt "$deadline" ] || { echo "wait-refresh: $asg still $status after ${WAIT_MINUTES:-45} min" >&2; exit 1; }
    sleep 15
  done
done
