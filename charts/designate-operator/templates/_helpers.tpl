{{/* The chart's name. */}}
{{- define "designate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's objects' base name; role names are appended (<= 63). */}}
{{- define "designate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "designate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "designate.labels" -}}
helm.sh/chart: {{ include "designate.chart" . }}
{{ include "designate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: designate
{{- end }}

{{- define "designate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "designate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one role's objects; call with (dict "ctx" $ "role" "api"). */}}
{{- define "designate.roleLabels" -}}
{{ include "designate.labels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "designate.roleSelectorLabels" -}}
{{ include "designate.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/* The roles installed, space-separated: the Sink when enabled. */}}
{{- define "designate.roles" -}}
api controllers mdns{{ if .Values.sink.enabled }} sink{{ end }}
{{- end }}

{{/* Whether the bus is configured (a transport URL or its Secret). */}}
{{- define "designate.bus" -}}
{{- if or .Values.bus.transportUrl .Values.bus.secretName }}true{{ end }}
{{- end }}

{{- define "designate.busSecret" -}}
{{ .Values.bus.secretName | default (printf "%s-bus" (include "designate.fullname" .)) }}
{{- end }}

{{/* A role's ServiceAccount. */}}
{{- define "designate.serviceAccountName" -}}
{{- if .ctx.Values.serviceAccount.create -}}
{{ include "designate.fullname" .ctx }}-{{ .role }}
{{- else -}}
default
{{- end -}}
{{- end }}

{{- define "designate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "designate.databaseSecret" -}}
{{ .Values.database.secretName | default (printf "%s-database" (include "designate.fullname" .)) }}
{{- end }}

{{- define "designate.keystoneSecret" -}}
{{ .Values.identity.keystone.secretName | default (printf "%s-keystone" (include "designate.fullname" .)) }}
{{- end }}

{{/* One designate.conf option value: lists joined with commas, numbers as integers. */}}
{{- define "designate.confValue" -}}
{{- if kindIs "slice" . -}}
{{ join "," . }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) -}}
{{ int64 . }}
{{- else -}}
{{ . }}
{{- end -}}
{{- end }}
