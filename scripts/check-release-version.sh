#!/usr/bin/env bash
# Checks a release tag (vMAJOR.MINOR.PATCH) against the versions it publishes: package.json's
# version (the agent), Chart.yaml's version (the chart) and appVersion (the image tag).
# Usage: check-release-version.sh TAG. Exits 1 with one line per mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:?usage: check-release-version.sh vMAJOR.MINOR.PATCH}
if [[ ! "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "tag $tag is not vMAJOR.MINOR.PATCH" >&2
  exit 1
fi
want=${tag#v}
package=$(node -p "require('./package.json').version")
chart=$(sed -n 's/^version:[[:space:]]*//p' chart/Chart.yaml | tr -d '"')
app=$(sed -n 's/^appVersion:[[:space:]]*//p' chart/Chart.yaml | tr -d '"')
status=0
check() {
  if [[ "$2" != "$want" ]]; then
    echo "$1 is $2, but tag $tag releases $want" >&2
    status=1
  fi
}
check "package.json version" "$package"
check "chart/Chart.yaml version" "$chart"
check "chart/Chart.yaml appVersion" "$app"
if [[ $status -eq 0 ]]; then echo "tag $tag matches package.json and chart/Chart.yaml"; fi
exit $status
