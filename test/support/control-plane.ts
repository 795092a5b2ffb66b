/**
 * A real Kubernetes control plane for the cluster suite: etcd, kube-apiserver (TLS, static tokens,
 * RBAC, optionally a token webhook), kube-controller-manager, kube-scheduler and kwok (a fake
 * kubelet, so Deployments really become Available), built from the Go module proxy by
 * scripts/cluster/build-control-plane.sh and cached outside the checkout. Everything runs on free
 * loopback ports in a temporary directory and is stopped (and removed) by `stop()`.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freePort, spawnManaged, stopProcess, waitForPort } from '../../scripts/lib/processes';
import { projectRoot } from '../../scripts/lib/tools';

export interface ControlPlaneOptions {
  /** Install the Istio CRDs (default true). */
  istio?: boolean;
  /** kubeconfig-format file of a TokenReview webhook (the EKS token verifier). */
  tokenWebhookConfigFile?: string;
}

export interface ControlPlane {
  server: string;
  caFile: string;
  /** Identities known to the API server by static token. */
  adminKubeconfig: string;
  /** The worker: member of deploy-platform:workers, holding only deploy/kubernetes/rbac.yaml. */
  workerKubeconfig: string;
  /** An identity with no permissions at all (for RBAC refusals). */
  nobodyKubeconfig: string;
  dir: string;
  /** Applies YAML documents as the cluster admin (server-side apply, field manager "test-admin"). */
  applyAsAdmin(yaml: string): Promise<void>;
  /** GET/DELETE/... a path as the cluster admin; JSON in and out. */
  adminRequest(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** Builds (first time only) or finds the cached binaries; answers the cache directory. */
export function controlPlaneDir(): string {
  const out = execFileSync('bash', [join(projectRoot, 'scripts', 'cluster', 'build-control-plane.sh'), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('build-control-plane.sh printed no directory');
  return dir;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-cluster-ca'], dir);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

function kubeconfig(server: string, caFile: string, user: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: test`,
    `  cluster: { server: "${server}", certificate-authority: "${caFile}" }`,
    'users:',
    `- name: ${user}`,
    `  user: { token: "${token}" }`,
    'contexts:',
    `- name: ${user}`,
    `  context: { cluster: test, user: ${user} }`,
    `current-context: ${user}`,
    '',
  ].join('\n');
}

const FAKE_NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'kwok-node-0',
    annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
    labels: { 'kubernetes.io/hostname': 'kwok-node-0', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
  },
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
    capacity: { cpu: '32', memory: '256Gi', pods: '110' },
  },
};

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = join(controlPlaneDir(), 'bin');
  const crdFile = join(binDir, '..', 'crds', 'istio.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'test-cluster-'));
  const children: { name: string; child: ChildProcess }[] = [];
  const log = createWriteStream(join(dir, 'control-plane.log'));
  const start = (name: string, args: string[]) => {
    const child = spawnManaged(join(binDir, name), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => log.write(`[${name}] ${chunk.toString()}`));
    child.stderr?.on('data', (chunk: Buffer) => log.write(`[${name}] ${chunk.toString()}`));
    child.unref();
    (child.stdout as { unref?: () => void } | null)?.unref?.();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    children.push({ name, child });
    return child;
  };
  const stop = async () => {
    // Reverse order: the API server before etcd; it takes 10-25 s to stop on SIGTERM, and this
    // cluster is thrown away, so it gets little grace.
    for (const { child } of [...children].reverse()) await stopProcess(child, 2_000);
    log.end();
    if (!process.env.KEEP_TEST_CLUSTER) rmSync(dir, { recursive: true, force: true });
  };

  try {
    makeCertificates(dir);
    const caFile = join(dir, 'ca.crt');
    const ca = readFileSync(caFile);
    const tokens = {
      admin: `admin-${Math.random().toString(36).slice(2)}`,
      worker: `worker-${Math.random().toString(36).slice(2)}`,
      nobody: `nobody-${Math.random().toString(36).slice(2)}`,
    };
    writeFileSync(
      join(dir, 'tokens.csv'),
      [`${tokens.admin},test-admin,1,"system:masters"`, `${tokens.worker},deploy-platform-worker,2,"deploy-platform:workers"`, `${tokens.nobody},nobody,3`].join('\n') + '\n',
    );

    const [etcdPort, peerPort, apiPort, cmPort, schedPort, kwokPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    start('etcd', [
      '--data-dir', join(dir, 'etcd'), '--name', 'default', '--unsafe-no-fsync',
      '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`, '--log-level', 'warn',
    ]);
    await waitForPort(etcdPort!, 30_000);

    const server = `https://127.0.0.1:${apiPort}`;
    start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--secure-port=${apiPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      '--tls-cert-file=server.crt', '--tls-private-key-file=server.key', '--client-ca-file=ca.crt',
      '--token-auth-file=tokens.csv', '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc', '--service-account-key-file=sa.pub', '--service-account-signing-key-file=sa.key',
      '--service-cluster-ip-range=10.96.0.0/16', '--endpoint-reconciler-type=none', '--enable-priority-and-fairness=false', '--profiling=false',
      ...(options.tokenWebhookConfigFile ? [`--authentication-token-webhook-config-file=${options.tokenWebhookConfigFile}`, '--authentication-token-webhook-cache-ttl=1s'] : []),
    ]);

    const adminRequest = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const req = request(
          `${server}${path}`,
          { method, ca, headers: { authorization: `Bearer ${tokens.admin}`, accept: 'application/json', ...(payload ? { 'content-type': contentType } : {}) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // /readyz answers plain text
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });

    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await adminRequest('GET', '/readyz').catch(() => ({ status: 0, body: '' }));
      if (ready.status === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after 60 s (see ${join(dir, 'control-plane.log')})`);
      await new Promise((r) => setTimeout(r, 250));
    }

    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const workerKubeconfig = join(dir, 'worker.kubeconfig');
    const nobodyKubeconfig = join(dir, 'nobody.kubeconfig');
    writeFileSync(adminKubeconfig, kubeconfig(server, caFile, 'test-admin', tokens.admin));
    writeFileSync(workerKubeconfig, kubeconfig(server, caFile, 'deploy-platform-worker', tokens.worker));
    writeFileSync(nobodyKubeconfig, kubeconfig(server, caFile, 'nobody', tokens.nobody));

    start('kube-controller-manager', [
      `--kubeconfig=${adminKubeconfig}`, '--leader-elect=false', `--secure-port=${cmPort}`, '--bind-address=127.0.0.1',
      '--service-account-private-key-file=sa.key', '--root-ca-file=ca.crt', '--use-service-account-credentials=false',
      '--concurrent-deployment-syncs=10',
    ]);
    start('kube-scheduler', [`--kubeconfig=${adminKubeconfig}`, '--leader-elect=false', `--secure-port=${schedPort}`, '--bind-address=127.0.0.1']);
    start('kwok', [
      `--kubeconfig=${adminKubeconfig}`, `--config=${join(binDir, '..', 'kwok-stages.yaml')}`, '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.0.0.1/24', '--node-ip=10.0.0.1', `--server-address=127.0.0.1:${kwokPort}`,
    ]);

    const applyAsAdmin = async (yaml: string) => {
      for (const doc of parseAllDocuments(yaml)) {
        const object = doc.toJSON() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } | null;
        if (!object) continue;
        const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
        const plural = pluralOf(object.kind);
        const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
        const path = `${base}${object.metadata.namespace ? `/namespaces/${object.metadata.namespace}` : ''}/${plural}/${object.metadata.name}?fieldManager=test-admin&force=true`;
        const result = await adminRequest('PATCH', path, object, 'application/apply-patch+yaml');
        if (result.status >= 300) throw new Error(`applying ${object.kind} ${object.metadata.name} failed (${result.status}): ${JSON.stringify(result.body)}`);
      }
    };

    await applyAsAdmin(JSON.stringify(FAKE_NODE));
    await applyAsAdmin(readFileSync(join(projectRoot, 'deploy', 'kubernetes', 'rbac.yaml'), 'utf8'));
    if (options.istio !== false) {
      await applyAsAdmin(readFileSync(crdFile, 'utf8'));
      await waitForCrds(adminRequest);
      await applyAsAdmin(ISTIO_INGRESS);
    }
    return { server, caFile, adminKubeconfig, workerKubeconfig, nobodyKubeconfig, dir, applyAsAdmin, adminRequest, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The mesh's ingress gateway every VirtualService binds to (what an Istio install provides). */
const ISTIO_INGRESS = `
apiVersion: v1
kind: Namespace
metadata: { name: istio-ingress }
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: platform-gateway, namespace: istio-ingress }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["*"]
`;

const IRREGULAR_PLURALS: Record<string, string> = {
  NetworkPolicy: 'networkpolicies',
  PeerAuthentication: 'peerauthentications',
  AuthorizationPolicy: 'authorizationpolicies',
};

function pluralOf(kind: string): string {
  return IRREGULAR_PLURALS[kind] ?? `${kind.toLowerCase()}${kind.endsWith('s') ? 'es' : 's'}`;
}

async function waitForCrds(adminRequest: ControlPlane['adminRequest']): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await adminRequest('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    const items = (result.body as { items?: { status?: { conditions?: { type: string; status: string }[] } }[] }).items ?? [];
    const established = items.filter((crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    if (items.length > 0 && established.length === items.length) {
      // Established is not yet servable: the storage of a new CRD answers 429 for a moment.
      const lists = await Promise.all(
        ['networking.istio.io/v1beta1/virtualservices', 'networking.istio.io/v1beta1/destinationrules', 'security.istio.io/v1beta1/peerauthentications', 'security.istio.io/v1beta1/authorizationpolicies'].map(
          (path) => adminRequest('GET', `/apis/${path}`),
        ),
      );
      if (lists.every((list) => list.status === 200)) return;
    }
    if (Date.now() > deadline) throw new Error(`Istio CRDs not established after 30 s (${established.length}/${items.length})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
