{{/* The chart name, or nameOverride. */}}
{{- define "distcc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of every resource; truncated to 63 characters because DNS names are. */}}
{{- define "distcc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "distcc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the agent pods; never change them on upgrade. */}}
{{- define "distcc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "distcc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of the helm test pod: the release's, but a name of its own, so that no selector of the
DaemonSet, the Services or the NetworkPolicy matches it (the DaemonSet would adopt and delete it).
*/}}
{{- define "distcc.testLabels" -}}
helm.sh/chart: {{ include "distcc.chart" . }}
app.kubernetes.io/name: {{ include "distcc.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: test
{{- end }}

{{/* An address with its mask: NetworkPolicy ipBlocks and loadBalancerSourceRanges need one. */}}
{{- define "distcc.cidr" -}}
{{- if contains "/" . }}{{ . }}{{ else if contains ":" . }}{{ printf "%s/128" . }}{{ else }}{{ printf "%s/32" . }}{{ end }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "distcc.labels" -}}
helm.sh/chart: {{ include "distcc.chart" . }}
{{ include "distcc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: distccd
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "distcc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "distcc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* registry/repository:tag, or @digest when a digest is given. */}}
{{- define "distcc.image" -}}
{{- $repository := printf "%s/%s" .Values.image.registry .Values.image.repository | trimPrefix "/" }}
{{- if .Values.image.digest }}
{{- if not (hasPrefix "sha256:" .Values.image.digest) }}
{{- fail (printf "image.digest %q must start with sha256:" .Values.image.digest) }}
{{- end }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The whitelist file's contents, one compiler name a line. */}}
{{- define "distcc.whitelist" -}}
# Compilers distccd may run, one name a line (chart value distccd.whitelist).
{{- range .Values.distccd.whitelist }}
{{ . }}
{{- end }}
{{- end }}

{{/* How long running jobs may finish after SIGTERM: the pod's grace period less the drain delay and 5 seconds. */}}
{{- define "distcc.shutdownGrace" -}}
{{- max 0 (sub (sub (int .Values.terminationGracePeriodSeconds) 5) (int (ceil .Values.distccd.drainDelay))) }}
{{- end }}

{{/*
What each agent advertises to clients (`--advertise`): the node's address where clients reach
this node's agent (node port with NodePort and LoadBalancer, the port itself with hostNetwork),
else the pod's. Brackets keep an IPv6 address apart from the port; the agent accepts them
around IPv4 too. $(NODE_IP) and $(POD_IP) are expanded by the kubelet from the pod's env.
*/}}
{{- define "distcc.advertise" -}}
{{- $nodePort := include "distcc.nodePort" . }}
{{- if .Values.distccd.advertise }}
{{- .Values.distccd.advertise }}
{{- else if .Values.hostNetwork }}
{{- printf "[$(NODE_IP)]:%v" .Values.distccd.port }}
{{- else if and (ne .Values.service.type "ClusterIP") $nodePort }}
{{- printf "[$(NODE_IP)]:%v" $nodePort }}
{{- else }}
{{- printf "[$(POD_IP)]:%v" .Values.distccd.port }}
{{- end }}
{{- end }}

{{/* The stats port's node port in use, or nothing: NodePort and LoadBalancer with stats only. */}}
{{- define "distcc.statsNodePort" -}}
{{- if and .Values.distccd.stats.enabled (ne .Values.service.type "ClusterIP") (not (kindIs "invalid" .Values.service.statsNodePort)) }}
{{- .Values.service.statsNodePort }}
{{- end }}
{{- end }}

{{/* The agent's command line: the image's entrypoint flags plus one flag per value. */}}
{{- define "distcc.args" -}}
- --daemon
- --no-fork
- --log-stderr
- --listen
- {{ .Values.distccd.listen | quote }}
- --port
- {{ .Values.distccd.port | quote }}
{{- range .Values.distccd.allow }}
- --allow
- {{ . | quote }}
{{- end }}
{{- if .Values.distccd.stats.enabled }}
- --stats
- --stats-port
- {{ .Values.distccd.stats.port | quote }}
{{- range .Values.distccd.stats.allow }}
- --stats-allow
- {{ . | quote }}
{{- end }}
{{- end }}
{{- if not (kindIs "invalid" .Values.distccd.jobs) }}
- --jobs
- {{ .Values.distccd.jobs | quote }}
{{- end }}
- --nice
- {{ .Values.distccd.nice | quote }}
- --sandbox
- {{ .Values.distccd.sandbox | quote }}
- --log-level
- {{ .Values.distccd.logLevel | quote }}
{{- if .Values.distccd.verbose }}
- --verbose
{{- end }}
- --shutdown-grace
- {{ include "distcc.shutdownGrace" . | quote }}
{{- if and .Values.distccd.peers.enabled .Values.distccd.stats.enabled .Values.headlessService.enabled }}
- --peers
- {{ printf "%s-headless.%s.svc:%v" (include "distcc.fullname" .) .Release.Namespace .Values.distccd.stats.port | quote }}
- --peers-interval
- {{ .Values.distccd.peers.interval | quote }}
{{- end }}
- --advertise
- {{ include "distcc.advertise" . | quote }}
- --drain-delay
- {{ .Values.distccd.drainDelay | quote }}
- --keepalive
- {{ .Values.distccd.keepalive | quote }}
{{- if .Values.hostNetwork }}
- --reuse-port
{{- end }}
{{- if .Values.distccd.zeroconf }}
- --zeroconf
{{- end }}
{{- range .Values.distccd.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* The node port in use, or nothing: explicit, else 30362 for NodePort. */}}
{{- define "distcc.nodePort" -}}
{{- if not (kindIs "invalid" .Values.service.nodePort) }}
{{- .Values.service.nodePort }}
{{- else if eq .Values.service.type "NodePort" }}
{{- 30362 }}
{{- end }}
{{- end }}

{{/* The container's compile port for Services and probes: by name, by number with hostNetwork (no ports are declared). */}}
{{- define "distcc.targetPort" -}}
{{- if .Values.hostNetwork }}{{ .Values.distccd.port }}{{ else }}distcc{{ end }}
{{- end }}

{{/* The container's stats port for Services and probes, as distcc.targetPort. */}}
{{- define "distcc.statsTargetPort" -}}
{{- if .Values.hostNetwork }}{{ .Values.distccd.stats.port }}{{ else }}stats{{ end }}
{{- end }}

{{/*
A shell line setting $slots to the compile slots of the agent on node $node: distccd.jobs, or
what the agent defaults to, the node's CPUs + 2 (allocatable CPUs, which may be millicores).
*/}}
{{- define "distcc.notes.slots" -}}
{{- if not (kindIs "invalid" .Values.distccd.jobs) -}}
slots={{ .Values.distccd.jobs }}
{{- else -}}
cpu=$(kubectl get node "$node" -o jsonpath='{.status.allocatable.cpu}'); case $cpu in *m) cpu=$(( ${cpu%m} / 1000 ));; esac; slots=$(( cpu + 2 ))
{{- end }}
{{- end }}

{{/* `kubectl get pods` of this release's agents, one line each: status.<field> and the node. */}}
{{- define "distcc.notes.agents" -}}
kubectl -n {{ .root.Release.Namespace }} get pods -l app.kubernetes.io/name={{ include "distcc.name" .root }},app.kubernetes.io/instance={{ .root.Release.Name }} -o jsonpath='{range .items[*]}{.status.{{ .field }}} {.spec.nodeName}{"\n"}{end}'
{{- end }}

{{/* The compiler the helm test probe asks for: tests.compiler, else the whitelist's first. */}}
{{- define "distcc.tests.compiler" -}}
{{- default (first .Values.distccd.whitelist) .Values.tests.compiler }}
{{- end }}

{{/* What `read` takes from each agent line: the address when `ip` is set, the node when slots need it. */}}
{{- define "distcc.notes.read" -}}
read -r {{ if .ip }}ip{{ else }}_{{ end }} {{ if kindIs "invalid" .root.Values.distccd.jobs }}node{{ else }}_{{ end }}
{{- end }}
