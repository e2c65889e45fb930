#!/usr/bin/env bash
# Uploads the release built once by the build job under its version, never over an existing object:
# s3://$RELEASES_BUCKET/<tier>/<version>.tar.gz and <tier>/<version>.release.json.
# Usage: upload-release.sh OUT_DIR VERSION
set -euo pipefail
out="${1:?usage: upload-release.sh OUT_DIR VERSION}"
version="${2:?usage: upload-release.sh OUT_DIR VERSION}"
: "${RELEASES_BUCKET:?run outputs.sh first}"
for tier in api front; do
  tarball="$out/$tier/current.tar.gz"
  [ -f "$tarball" ] || { echo "upload-release: $tarball is missing: run npx tier release --out $out" >&2; exit 1; }
  key="$tier/$version.tar.gz"
  if aws s3api head-object --bucket "$RELEASES_BUCKET" --key "$key" >/dev/null 2>&1; then
    echo "upload-release: s3://$RELEASES_BUCKET/$key exists already (releases are immutable): keeping it"
    continue
  fi
  tar -xzOf "$tarball" ./release.json > "$out/$tier/release.json"
  built="$(jq -r .version "$out/$tier/release.json")"
  # Instances refuse an artifact whose release.json names another version: refuse it here already.
  [ "$built" = "$version" ] || { echo "upload-release: $tarball is release $built, not $version: build it from $version (npx tier release)" >&2; exit 1; }
  aws s3 cp --only-show-errors "$out/$tier/release.json" "s3://$RELEASES_BUCKET/$tier/$version.release.json"
  aws s3 cp --only-show-errors "$tarball" "s3://$RELEASES_BUCKET/$key"
  echo "upload-release: s3://$RELEASES_BUCKET/$key"
done
