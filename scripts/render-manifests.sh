#!/usr/bin/env bash
# Renders the plain manifests (for `kubectl apply`) from the chart with its default values.
# Usage: render-manifests.sh HELM OUTDIR. The chart test fails when manifests/ differs from this.
set -euo pipefail
helm=$1
out=$2
mkdir -p "$out"
render() {
  "$helm" template distcc chart --namespace default "$@"
}
header="# Rendered from chart/ by \`make manifests\`; do not edit by hand."
{
  echo "$header"
  render --show-only templates/serviceaccount.yaml --show-only templates/configmap.yaml --show-only templates/daemonset.yaml
} > "$out/distcc-ds.yaml"
{
  echo "$header"
  render --show-only templates/service.yaml
} > "$out/distcc-nodeport.yaml"
{
  echo "$header"
  render --set service.type=LoadBalancer --show-only templates/service.yaml
} > "$out/distcc-lb.yaml"
{
  echo "$header"
  render --show-only templates/serviceaccount.yaml --show-only templates/configmap.yaml \
    --show-only templates/daemonset.yaml --show-only templates/service.yaml
} > "$out/distcc-deploy-nodePort.yml"
