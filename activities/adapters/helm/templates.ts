/**
 * The chart's Go templates. They read only `.Chart`, `.Release.Name` and `.Values`, and must
 * render to exactly the objects manifests.ts builds: change both together. Every string is
 * quoted because Helm reads YAML 1.1, where a service called `no` would be a boolean.
 */
import { DEPLOYMENT_ID_ANNOTATION, MANAGED_BY } from './chart-model';

const helpers = `{{/*
Selector labels. A Deployment's selector is immutable, so they never include the version.
*/}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/*
Labels on every object: the selector labels, the version, who manages it, and .Values.labels.
*/}}
{{- define "platform.labels" -}}
{{ include "platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: ${MANAGED_BY}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Metadata of every object; the annotation traces an object back to the platform run that made it.
*/}}
{{- define "platform.metadata" -}}
name: {{ .Chart.Name | quote }}
namespace: {{ .Values.namespace | quote }}
labels:
  {{- include "platform.labels" . | nindent 2 }}
annotations:
  ${DEPLOYMENT_ID_ANNOTATION}: {{ .Values.deploymentId | quote }}
{{- end }}

{{/*
The Service's cluster-local host name, as Istio names destinations.
*/}}
{{- define "platform.serviceHost" -}}
{{ .Chart.Name }}.{{ .Values.namespace }}.svc.cluster.local
{{- end }}
`;

const serviceAccount = `apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
automountServiceAccountToken: false
`;

const service = `apiVersion: v1
kind: Service
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "platform.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
`;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  replicas: {{ .Values.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "platform.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ .Chart.Name | quote }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ .Chart.Name | quote }}
          image: {{ printf "%s@%s" .Values.image.repository .Values.image.digest | quote }}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: {{ .Values.healthPath | quote }}
              port: http
            timeoutSeconds: 2
            failureThreshold: 3
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: {{ .Values.healthPath | quote }}
              port: http
            timeoutSeconds: 2
            failureThreshold: 3
            initialDelaySeconds: 10
            periodSeconds: 10
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop:
                - ALL
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
`;

const destinationRule = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  host: {{ include "platform.serviceHost" . | quote }}
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
`;

const virtualService = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  hosts:
    - {{ .Values.route.host | quote }}
  gateways:
    - {{ .Values.route.gateway | quote }}
  http:
    - name: {{ .Chart.Name | quote }}
      match:
        - uri:
            prefix: {{ .Values.route.path | quote }}
      route:
        - destination:
            host: {{ include "platform.serviceHost" . | quote }}
            port:
              number: {{ .Values.port }}
`;

/** Paths relative to the chart root. */
export const TEMPLATE_FILES: Readonly<Record<string, string>> = {
  'templates/_helpers.tpl': helpers,
  'templates/serviceaccount.yaml': serviceAccount,
  'templates/service.yaml': service,
  'templates/deployment.yaml': deployment,
  'templates/destinationrule.yaml': destinationRule,
  'templates/virtualservice.yaml': virtualService,
};
