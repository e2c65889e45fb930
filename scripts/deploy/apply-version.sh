#!/usr/bin/env bash
# Makes VERSION the release of this region's API and front tiers: the version is an input of the stack,
# so the launch templates get a new version whose boot script installs exactly that release, and the
# Auto Scaling groups start an instance refresh (rolling, auto-rollback on the tier's alarms).
# Usage: apply-version.sh REGION VERSION
set -euo pipefail
region="${1:?usage: apply-version.sh REGION VERSION}"
version="${2:?usage: apply-version.sh REGION VERSION}"
: "${STACK_DIR:?run outputs.sh first}"
echo "apply-version: $region -> release $version"
terraform -chdir="$STACK_DIR" apply -input=false -auto-approve -var "release_version=$version"
