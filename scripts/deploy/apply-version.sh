#!/usr/bin/env bash
# Rolls VERSION out to this region's API and front groups: for each, a new launch template version whose
# boot script installs exactly that release (the default version's user data with its one RELEASE_VERSION
# line changed: what `-var release_version=VERSION` makes Terraform write), then an instance refresh to that
# version with the preferences Terraform wrote (checkpoint + bake after the first instance, rollback to the
# previous version on a failed instance or on the tier's 5xx/latency alarm).
# Usage: apply-version.sh VERSION   (reads DEPLOY_SETTINGS from outputs.sh; writes <TIER>_TEMPLATE_VERSION to $GITHUB_ENV)
set -euo pipefail
version="${1:?usage: apply-version.sh VERSION}"
: "${DEPLOY_SETTINGS:?run outputs.sh first}"
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$ ]] || { echo "apply-version: '$version' is not a release version (a git commit or a tag)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for tier in api front; do
  asg="$(jq -r ".groups.$tier.name" "$DEPLOY_SETTINGS")"
  template="$(jq -r ".groups.$tier.launchTemplateId" "$DEPLOY_SETTINGS")"
  read -r current user_data <<<"$(aws ec2 describe-launch-template-versions --launch-template-id "$template" --versions '$Default' \
    --query 'LaunchTemplateVersions[0].[VersionNumber,LaunchTemplateData.UserData]' --output text)"
  base64 -d <<<"$user_data" > "$work/$tier.sh"
  if [ "$(grep -c '^RELEASE_VERSION=' "$work/$tier.sh")" != 1 ]; then
    echo "apply-version: the boot script of $template (version $current) has no single RELEASE_VERSION line: apply the stack with -var release_version=$version instead" >&2
    exit 1
  fi
  sed -i "s/^RELEASE_VERSION=.*/RELEASE_VERSION=$version/" "$work/$tier.sh"
  jq -n --arg ud "$(base64 -w0 < "$work/$tier.sh")" '{UserData: $ud}' > "$work/$tier-data.json"
  new="$(aws ec2 create-launch-template-version --launch-template-id "$template" --source-version "$current" \
    --version-description "release $version" --launch-template-data "file://$work/$tier-data.json" \
    --query LaunchTemplateVersion.VersionNumber --output text)"
  jq -n --arg id "$template" --arg v "$new" '{LaunchTemplate: {LaunchTemplateId: $id, Version: $v}}' > "$work/$tier-desired.json"
  jq ".groups.$tier.preferences" "$DEPLOY_SETTINGS" > "$work/$tier-preferences.json"
  refresh="$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$asg" --strategy Rolling \
    --desired-configuration "file://$work/$tier-desired.json" --preferences "file://$work/$tier-preferences.json" \
    --query InstanceRefreshId --output text)"
  echo "apply-version: $asg -> release $version (launch template $template version $new, from $current; refresh $refresh)"
  echo "${tier^^}_TEMPLATE_VERSION=$new" >> "${GITHUB_ENV:?apply-version.sh runs inside GitHub Actions (or set GITHUB_ENV to a file)}"
done
