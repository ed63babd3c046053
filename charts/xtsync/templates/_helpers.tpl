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

{{/* The `helm test` Pod's labels: never the operator's selector (the Service would send it traffic). */}}
{{- define "xtsync.probeLabels" -}}
app.kubernetes.io/name: xtsync-probe
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "xtsync.serviceAccountName" -}}
{{- default (include "xtsync.name" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* One Lease per release, so that releases sharing a namespace elect their leaders apart. */}}
{{- define "xtsync.leaseName" -}}
{{- default (include "xtsync.name" .) .Values.leaseName -}}
{{- end -}}

{{/* By digest when one is given: what runs is then exactly what was tested. */}}
{{- define "xtsync.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The pod's and its container's security settings, shared by the operator and its test Pod. */}}
{{- define "xtsync.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{- define "xtsync.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: { drop: [ALL] }
{{- end -}}

{{/* /readyz through the metrics Service: what `helm test` asks of a running release. */}}
{{- define "xtsync.readyzUrl" -}}
http://{{ include "xtsync.name" . }}-metrics.{{ .Release.Namespace }}.svc:{{ .Values.httpPort }}/readyz
{{- end -}}
