{{/*
What felix and bird each need in a container, shared by both process layouts
(nodeProcess.layout): two containers, or one running tricolor-node with both sets.
*/}}

{{/* felix's variables (after NODENAME/IP and ETCD_*). */}}
{{- define "tricolor.felixEnv" -}}
- name: FELIX_HEALTHHOST
  value: {{ .Values.felix.healthHost | quote }}
- name: FELIX_HEALTHPORT
  value: {{ .Values.felix.healthPort | quote }}
- name: FELIX_PROMETHEUSMETRICSHOST
  {{- include "tricolor.metricsHostEnv" . | nindent 2 }}
- name: FELIX_PROMETHEUSMETRICSPORT
  value: {{ .Values.felix.metricsPort | quote }}
- name: FELIX_LOGSEVERITYSCREEN
  value: {{ .Values.felix.logSeverity | quote }}
# The CNI plugin's node identity when its conflist has no nodename (Calico's
# /var/lib/calico/nodename), written once the node is registered.
- name: TRICOLOR_NODENAME_FILE
  value: /var/lib/tricolor/nodename
{{- with .Values.felix.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* bird's variables (etcd mode). */}}
{{- define "tricolor.birdEnv" -}}
- name: BIRD_HEALTHHOST
  value: {{ .Values.bird.healthHost | quote }}
- name: BIRD_HEALTHPORT
  value: {{ .Values.bird.healthPort | quote }}
- name: BIRD_METRICSHOST
  {{- include "tricolor.metricsHostEnv" . | nindent 2 }}
- name: BIRD_METRICSPORT
  value: {{ .Values.bird.metricsPort | quote }}
- name: BIRD_LOGLEVEL
  value: {{ .Values.bird.logSeverity | quote }}
{{- with .Values.bird.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* felix's ports (metrics). */}}
{{- define "tricolor.felixPorts" -}}
{{- if .Values.metrics.enabled }}
- name: felix-metrics
  containerPort: {{ .Values.felix.metricsPort }}
  protocol: TCP
{{- end }}
{{- end -}}

{{/* bird's ports (BGP, metrics). */}}
{{- define "tricolor.birdPorts" -}}
- name: bgp
  containerPort: {{ .Values.bgp.listenPort }}
  protocol: TCP
{{- if .Values.metrics.enabled }}
- name: bird-metrics
  containerPort: {{ .Values.bird.metricsPort }}
  protocol: TCP
{{- end }}
{{- end -}}

{{/* felix's mounts besides /var/run/tricolor and etcd's TLS files. */}}
{{- define "tricolor.felixMounts" -}}
- name: xtables-lock
  mountPath: /run/xtables.lock
- name: lib-modules
  mountPath: /lib/modules
  readOnly: true
- name: var-lib-tricolor
  mountPath: /var/lib/tricolor
{{- end -}}

{{/* bird's password Secrets, where it reads secretKeyRefs. */}}
{{- define "tricolor.birdMounts" -}}
{{- range $i, $name := include "tricolor.bgpPasswordSecrets" . | fromJsonArray }}
- name: bgp-secret-{{ $i }}
  mountPath: /etc/tricolor/bgp-secrets/{{ $name }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Liveness and readiness probes of a daemon's health endpoint: (dict "host" H "port" P). */}}
{{- define "tricolor.healthProbes" -}}
livenessProbe:
  httpGet:
    {{- with include "tricolor.probeHost" .host }}{{ . | nindent 4 }}{{ end }}
    path: /liveness
    port: {{ .port }}
  initialDelaySeconds: 10
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet:
    {{- with include "tricolor.probeHost" .host }}{{ . | nindent 4 }}{{ end }}
    path: /readiness
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 5
{{- end -}}

{{/* What every daemon container shares: privileged (routes, iptables, ipsets, sysctls and
tunnel devices in the host's namespaces need NET_ADMIN and more: the daemons cannot run as
non-root), and a short pause before SIGTERM. */}}
{{- define "tricolor.daemonSecurity" -}}
securityContext:
  privileged: true
  seccompProfile:
    type: RuntimeDefault
lifecycle:
  preStop:
    {{- include "tricolor.preStop" . | nindent 4 }}
{{- end -}}
