{{/* The chart's name, or nameOverride. */}}
{{- define "logship.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Objects' names: the release name, with the chart's name unless it holds it already. */}}
{{- define "logship.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Where the namespaced objects go: namespace.name, else the release namespace. */}}
{{- define "logship.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name -}}
{{- end -}}

{{- define "logship.selectorLabels" -}}
app.kubernetes.io/name: {{ include "logship.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "logship.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "logship.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "logship.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "logship.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where the state hostPath is mounted in the pod: logship's state_dir. */}}
{{- define "logship.stateDir" -}}/var/lib/logship{{- end -}}

{{/*
The agent's configuration (logship.yaml): extraConfig, then what the chart
owns: the inputs (with format and container filled in where an input gives
none), kafka, state_dir, and metrics on all interfaces for the probes and
the scraper.
*/}}
{{- define "logship.config" -}}
{{- range $key := list "inputs" "kafka" "state_dir" "metrics" -}}
{{- if hasKey $.Values.extraConfig $key -}}
{{- fail (printf "extraConfig.%s: the chart sets %s (values %s); set it there" $key $key (get (dict "inputs" "inputs, format, containerRuntime" "kafka" "kafka" "state_dir" "stateHostPath" "metrics" "metrics.port") $key)) -}}
{{- end -}}
{{- end -}}
{{- $inputs := list -}}
{{- range $input := .Values.inputs -}}
{{- $input = deepCopy $input -}}
{{- if not (or (hasKey $input "format") (hasKey $input "nginx_conf")) -}}
{{- $_ := set $input "format" $.Values.format -}}
{{- end -}}
{{- if not (hasKey $input "container") -}}
{{- $_ := set $input "container" $.Values.containerRuntime -}}
{{- end -}}
{{- $inputs = append $inputs $input -}}
{{- end -}}
{{- $config := deepCopy .Values.extraConfig -}}
{{- $_ := set $config "inputs" $inputs -}}
{{- $_ := set $config "kafka" (deepCopy .Values.kafka) -}}
{{- $_ := set $config "state_dir" (include "logship.stateDir" .) -}}
{{- $_ := set $config "metrics" (dict "enabled" true "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port))) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
"true" when a container log file may link into the docker data root: the
docker runtime, or an input that unwraps docker lines itself.
*/}}
{{- define "logship.dockerContainers" -}}
{{- $docker := eq .Values.containerRuntime "docker" -}}
{{- range .Values.inputs -}}
{{- if has (toString .container) (list "docker" "auto") -}}{{- $docker = true -}}{{- end -}}
{{- end -}}
{{- if $docker -}}true{{- end -}}
{{- end -}}

{{/* The SIGTERM drain (shutdown_timeout_ms, default 30 s) plus 15 s to save checkpoints and exit. */}}
{{- define "logship.terminationGracePeriodSeconds" -}}
{{- $ms := int (default 30000 .Values.extraConfig.shutdown_timeout_ms) -}}
{{- add (div (add $ms 999) 1000) 15 -}}
{{- end -}}
