{{- define "xtsync.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "xtsync.labels" -}}
app.kubernetes.io/name: xtsync
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "xtsync.selectorLabels" -}}
app.kubernetes.io/name: xtsync
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
