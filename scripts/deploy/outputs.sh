#!/usr/bin/env bash
# Reads what this region's deploy needs from the SSM parameter Terraform writes (/<name>/deploy/<region>:
# releases bucket, Auto Scaling groups, their launch templates and instance refresh preferences, the
# migrations document) and exports it into the job's environment. Never Terraform state: the state holds
# generated secrets, and the deploy role may not read secrets.
# Usage: outputs.sh REGION   (in GitHub Actions; writes to $GITHUB_ENV; NAME defaults to the definition's name)
set -euo pipefail
region="${1:?usage: outputs.sh REGION}"
name="${NAME:-$(npx tier synth aws --json --out out/aws | jq -r --arg r "$region" '.resources | keys[] | select(endswith("-" + $r)) | sub("-" + $r + "$"; "")')}"
[ -n "$name" ] || { echo "outputs: no stack for region $region in the definition: is it regions.primary or regions.secondary of stack.config.ts?" >&2; exit 1; }
settings="${RUNNER_TEMP:-/tmp}/deploy-$region.json"
aws ssm get-parameter --region "$region" --name "/$name/deploy/$region" --query Parameter.Value --output text > "$settings"
{
  echo "DEPLOY_SETTINGS=$settings"
  echo "RELEASES_BUCKET=$(jq -r .releasesBucket "$settings")"
  echo "API_ASG=$(jq -r .groups.api.name "$settings")"
  echo "FRONT_ASG=$(jq -r .groups.front.name "$settings")"
  echo "MIGRATE_DOCUMENT=$(jq -r .migrateDocument "$settings")"
} >> "${GITHUB_ENV:?outputs.sh runs inside GitHub Actions (or set GITHUB_ENV to a file)}"
