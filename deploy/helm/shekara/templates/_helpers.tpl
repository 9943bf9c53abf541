{{/* Names: <release>-shekara unless the release name already contains the chart name. */}}
{{- define "shekara.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "shekara.fullname" -}}
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

{{- define "shekara.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "shekara.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shekara.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "shekara.labels" -}}
helm.sh/chart: {{ include "shekara.chart" . }}
{{ include "shekara.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shekara
{{- end }}

{{- define "shekara.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "shekara.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "shekara.secretName" -}}
{{- default (include "shekara.fullname" .) .Values.secret.name }}
{{- end }}

{{- define "shekara.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "shekara.fullname" .)) .Values.tls.secretName }}
{{- end }}

{{- define "shekara.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where the projected volume puts each file; the gateway config names the same paths. */}}
{{- define "shekara.configDir" -}}/etc/shekara{{- end }}
{{- define "shekara.dataDir" -}}/var/lib/shekara{{- end }}

{{/*
The gateway config (shekara.yaml): the operator's `config`, plus the keys the chart owns
because they must agree with the pod (listeners, mounted file paths, metrics port). Those are
refused in `config` rather than silently overwritten.
*/}}
{{- define "shekara.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- if hasKey $cfg "dataDir" }}{{ fail "config.dataDir: set by the chart (an emptyDir at /var/lib/shekara); remove it from values" }}{{ end }}
{{- if hasKey $cfg "http" }}{{ fail "config.http: set by the chart from ports.http and tls; remove it from values" }}{{ end }}
{{- $store := default (dict) $cfg.store }}
{{- if ne (toString $store.kind) "postgres" }}{{ fail "config.store.kind: this chart runs the PostgreSQL store, which all replicas share (an SQLite file in a pod would be lost with it); for one host with SQLite use deploy/systemd or deploy/docker" }}{{ end }}
{{- if hasKey $store "url" }}{{ fail "config.store.url: the URL holds a password; set secret.storeUrl (or bring your own Secret) instead" }}{{ end }}
{{- $mqtt := default (dict) $cfg.mqtt }}
{{- range $k := list "host" "port" "tls" }}
{{- if hasKey $mqtt $k }}{{ fail (printf "config.mqtt.%s: set by the chart from ports and tls; remove it from values" $k) }}{{ end }}
{{- end }}
{{- $telemetry := default (dict) $cfg.telemetry }}
{{- $tmetrics := default (dict) $telemetry.metrics }}
{{- if hasKey $tmetrics "prometheus" }}{{ fail "config.telemetry.metrics.prometheus: set by the chart from metrics.enabled and ports.metrics; remove it from values" }}{{ end }}
{{- if and .Values.tls.crl.secretName (not .Values.tls.clientCa.secretName) }}{{ fail "tls.crl.secretName: needs tls.clientCa.secretName (a revocation list only matters for client certificates)" }}{{ end }}
{{- $dir := include "shekara.configDir" . }}
{{- $mqttTls := dict "enabled" .Values.tls.enabled "host" "0.0.0.0" "port" (int .Values.ports.mqtts) }}
{{- $httpTls := dict "enabled" .Values.tls.enabled }}
{{- if .Values.tls.enabled }}
{{- $_ := set $mqttTls "certFile" (printf "%s/tls/tls.crt" $dir) }}
{{- $_ := set $mqttTls "keyFile" (printf "%s/tls/tls.key" $dir) }}
{{- $_ := set $httpTls "certFile" (printf "%s/tls/tls.crt" $dir) }}
{{- $_ := set $httpTls "keyFile" (printf "%s/tls/tls.key" $dir) }}
{{- if .Values.tls.clientCa.secretName }}{{ $_ := set $mqttTls "clientCaFile" (printf "%s/tls/vehicle-ca.crt" $dir) }}{{ end }}
{{- if .Values.tls.crl.secretName }}{{ $_ := set $mqttTls "crlFile" (printf "%s/tls/vehicle-crl.pem" $dir) }}{{ end }}
{{- end }}
{{- $_ := set $cfg "dataDir" (include "shekara.dataDir" .) }}
{{- $_ := set $cfg "mqtt" (merge (dict "host" "0.0.0.0" "port" (int .Values.ports.mqtt) "tls" $mqttTls) $mqtt) }}
{{- $_ := set $cfg "http" (dict "host" "0.0.0.0" "port" (int .Values.ports.http) "tls" $httpTls) }}
{{- if .Values.metrics.enabled }}
{{- $_ := set $tmetrics "prometheus" (dict "enabled" true "host" "0.0.0.0" "port" (int .Values.ports.metrics)) }}
{{- $_ := set $telemetry "metrics" $tmetrics }}
{{- $_ := set $cfg "telemetry" $telemetry }}
{{- end }}
{{- $oems := list }}
{{- range $oem := (default (list) $cfg.oems) }}
{{- $o := deepCopy $oem }}
{{- $pf := default "" $o.policyFile }}
{{- if and (hasPrefix "policies/" $pf) (not (hasKey $.Values.policies (trimPrefix "policies/" $pf))) }}{{ fail (printf "config.oems[%s].policyFile: %s is not in policies (keys: %s)" $o.id $pf (keys $.Values.policies | sortAlpha | join ", ")) }}{{ end }}
{{- if hasKey $.Values.secret.oemSigningKeys $o.id }}
{{- if hasKey $o "signingKeyFile" }}{{ fail (printf "config.oems[%s].signingKeyFile: set by the chart because secret.oemSigningKeys names this OEM; remove one of them" $o.id) }}{{ end }}
{{- $_ := set $o "signingKeyFile" (printf "%s/keys/%s.key" $dir $o.id) }}
{{- end }}
{{- $oems = append $oems $o }}
{{- end }}
{{- $_ := set $cfg "oems" $oems }}
{{- toYaml $cfg }}
{{- end }}

{{/* Kubelet probes: HTTPS without certificate verification while tls.enabled. */}}
{{- define "shekara.probe" -}}
httpGet:
  path: {{ .path }}
  port: http
  scheme: {{ ternary "HTTPS" "HTTP" .root.Values.tls.enabled }}
{{ toYaml .settings }}
{{- end }}
