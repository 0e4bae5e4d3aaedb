#!/usr/bin/env bash
# Renders the plain manifests (for `kubectl apply -n NAMESPACE`) from the chart with its default
# values, without what only Helm uses: the helm.sh/chart and managed-by labels, and the
# namespace (kubectl's -n picks it). Each file starts with the allow range it admits.
# Usage: render-manifests.sh HELM OUTDIR. The chart test fails when manifests/ differs from this.
set -euo pipefail
helm=$1
out=$2
mkdir -p "$out"
render() {
  "$helm" template distcc chart --namespace default "$@" |
    sed -E '/^ +helm\.sh\/chart: /d; /^ +app\.kubernetes\.io\/managed-by: Helm$/d; /^  namespace: default$/d'
}
allow=$("$helm" template distcc chart --show-only templates/daemonset.yaml |
  awk '/- --allow$/ { getline; gsub(/[ "-]/, ""); printf "%s%s", sep, $0; sep = " " }')
header() {
  echo "# Rendered from chart/ by \`make manifests\`; do not edit by hand."
  echo "# Compile clients allowed: $allow, that is anyone who can reach the nodes. Narrow it to"
  echo -e "# your build network before applying: the --allow values of the DaemonSet (distcc-ds.yaml)$1,"
  echo "# or render your own: helm template distcc ./chart --set 'distccd.allow={10.0.0.0/8}'"
}
{
  header ""
  render --show-only templates/serviceaccount.yaml --show-only templates/configmap.yaml --show-only templates/daemonset.yaml
} > "$out/distcc-ds.yaml"
{
  header ""
  render --show-only templates/service.yaml
} > "$out/distcc-nodeport.yaml"
{
  header " and\n# the load balancer's loadBalancerSourceRanges below"
  render --set service.type=LoadBalancer --show-only templates/service.yaml
} > "$out/distcc-lb.yaml"
{
  header ""
  render --show-only templates/serviceaccount.yaml --show-only templates/configmap.yaml \
    --show-only templates/daemonset.yaml --show-only templates/service.yaml
} > "$out/distcc-deploy-nodePort.yml"
