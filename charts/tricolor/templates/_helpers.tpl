{{/* Name of the chart, overridable. */}}
{{- define "tricolor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects. */}}
{{- define "tricolor.fullname" -}}
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

{{- define "tricolor.labels" -}}
app.kubernetes.io/name: {{ include "tricolor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "tricolor.metaLabels" . }}
{{- end -}}

{{/* Labels that say which chart release made an object (not used in selectors). */}}
{{- define "tricolor.metaLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of the node DaemonSet's pods. */}}
{{- define "tricolor.nodeSelectorLabels" -}}
app.kubernetes.io/name: {{ include "tricolor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node
{{- end -}}

{{- define "tricolor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tricolor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tricolor.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Checks the etcd settings the schema cannot: one URL scheme, https and a Secret when TLS is on.
Renders nothing; fails the install with a message naming the values.
*/}}
{{- define "tricolor.checkEtcd" -}}
{{- $schemes := dict -}}
{{- range .Values.etcd.endpoints -}}
{{- $_ := set $schemes (regexFind "^https?" .) true -}}
{{- end -}}
{{- if gt (len $schemes) 1 -}}
{{- fail "etcd.endpoints: mixes http and https endpoints" -}}
{{- end -}}
{{- if and .Values.etcd.tls.enabled (hasKey $schemes "http") -}}
{{- fail "etcd.endpoints use http but etcd.tls.enabled is true (the default): give https endpoints and a client certificate Secret (etcd.tls.secretName), or set etcd.tls.enabled=false for plain http without client authentication (a throw-away cluster only)" -}}
{{- end -}}
{{- if and .Values.etcd.tls.enabled (not .Values.etcd.tls.secretName) -}}
{{- fail "etcd.tls.secretName is empty but etcd.tls.enabled is true: name the Secret holding the etcd client certificate (keys etcd.tls.caKey, certKey, keyKey)" -}}
{{- end -}}
{{- end -}}

{{/* Environment of every component that talks to etcd (@tricolor/datastore configFromEnv). */}}
{{- define "tricolor.etcdEnv" -}}
{{- include "tricolor.checkEtcd" . -}}
- name: ETCD_ENDPOINTS
  valueFrom:
    configMapKeyRef:
      name: {{ include "tricolor.fullname" . }}-config
      key: etcd_endpoints
- name: TRICOLOR_DATASTORE_PREFIX
  valueFrom:
    configMapKeyRef:
      name: {{ include "tricolor.fullname" . }}-config
      key: datastore_prefix
{{- if .Values.etcd.tls.enabled }}
- name: ETCD_CA_CERT_FILE
  value: /etc/tricolor/etcd-tls/{{ .Values.etcd.tls.caKey }}
- name: ETCD_CERT_FILE
  value: /etc/tricolor/etcd-tls/{{ .Values.etcd.tls.certKey }}
- name: ETCD_KEY_FILE
  value: /etc/tricolor/etcd-tls/{{ .Values.etcd.tls.keyKey }}
{{- end }}
{{- end -}}

{{/* The etcd client certificate's mount; empty without TLS. */}}
{{- define "tricolor.etcdTLSMount" -}}
{{- if .Values.etcd.tls.enabled -}}
- name: etcd-tls
  mountPath: /etc/tricolor/etcd-tls
  readOnly: true
{{- end -}}
{{- end -}}

{{/* The Secrets bird mounts for BGP passwords: bird.passwordSecrets and the mesh password's, once each (JSON list). */}}
{{- define "tricolor.bgpPasswordSecrets" -}}
{{- $names := .Values.bird.passwordSecrets | default list -}}
{{- with .Values.bgp.nodeMeshPassword.secretKeyRef }}{{ $names = append $names .name }}{{ end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{- define "tricolor.etcdTLSVolume" -}}
{{- if .Values.etcd.tls.enabled -}}
- name: etcd-tls
  secret:
    secretName: {{ .Values.etcd.tls.secretName }}
    defaultMode: 0400
{{- end -}}
{{- end -}}

{{/* Node identity shared by felix and bird (DESIGN.md: NODENAME, IP). */}}
{{- define "tricolor.nodeEnv" -}}
- name: NODENAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: IP
  valueFrom:
    configMapKeyRef:
      name: {{ include "tricolor.fullname" . }}-config
      key: node_ip
{{- end -}}

{{/* Value of a *_METRICSHOST variable: the node's IP from the downward API, or a literal. */}}
{{- define "tricolor.metricsHostEnv" -}}
{{- if eq .Values.metrics.bindAddress "hostIP" -}}
valueFrom:
  fieldRef:
    fieldPath: status.hostIP
{{- else -}}
value: {{ .Values.metrics.bindAddress | quote }}
{{- end -}}
{{- end -}}

{{/*
Host of an httpGet probe for an endpoint bound to `host`: a wildcard bind is probed at the
pod IP (which is the node IP under hostNetwork), anything else at that address.
*/}}
{{- define "tricolor.probeHost" -}}
{{- if not (has . (list "0.0.0.0" "::" "")) -}}
host: {{ . }}
{{- end -}}
{{- end -}}

{{/* Pod settings shared by the Jobs that run tricolorctl against etcd before any pod network exists. */}}
{{- define "tricolor.ctlPodSpec" -}}
serviceAccountName: {{ include "tricolor.serviceAccountName" . }}
hostNetwork: true
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
tolerations:
  {{- toYaml .Values.tolerations | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Every port the node pod binds on the host must be distinct (they share the node's network). */}}
{{- define "tricolor.checkPorts" -}}
{{- $ports := dict -}}
{{- $list := list (list "felix.healthPort" .Values.felix.healthPort) (list "felix.metricsPort" .Values.felix.metricsPort) -}}
{{- if .Values.bird.enabled -}}
{{- $list = concat $list (list (list "bird.healthPort" .Values.bird.healthPort) (list "bird.metricsPort" .Values.bird.metricsPort) (list "bgp.listenPort" .Values.bgp.listenPort)) -}}
{{- end -}}
{{- range $list -}}
{{- $key := toString (index . 1) -}}
{{- if hasKey $ports $key -}}
{{- fail (printf "%s and %s are both %s: every port on the node's network must be distinct" (get $ports $key) (index . 0) $key) -}}
{{- end -}}
{{- $_ := set $ports $key (index . 0) -}}
{{- end -}}
{{- end -}}

{{/* The readiness URLs of this node's agents, for the CNI plugin's STATUS (comma-separated). */}}
{{- define "tricolor.cniHealthUrls" -}}
{{- $h := list -}}
{{- $fh := ternary "127.0.0.1" .Values.felix.healthHost (has .Values.felix.healthHost (list "0.0.0.0" "")) -}}
{{- $h = append $h (printf "http://%s:%v/readiness" $fh .Values.felix.healthPort) -}}
{{- if .Values.bird.enabled -}}
{{- $bh := ternary "127.0.0.1" .Values.bird.healthHost (has .Values.bird.healthHost (list "0.0.0.0" "")) -}}
{{- $h = append $h (printf "http://%s:%v/readiness" $bh .Values.bird.healthPort) -}}
{{- end -}}
{{- join "," $h -}}
{{- end -}}

{{/*
preStop of felix and bird: a short pause before SIGTERM, so kubelet's CNI STATUS (which asks
these daemons' /readiness) and the API server see the pod terminating before its daemons stop;
SIGTERM itself then stops bird with graceful restart (peers keep the routes) and felix without
flushing the dataplane.
*/}}
{{- define "tricolor.preStop" -}}
exec:
  command: ["sh", "-c", "sleep 2"]
{{- end -}}
