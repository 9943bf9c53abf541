/**
 * The Helm chart through the real Helm engine (deploy/helm-check.sh: helm-java from Maven Central
 * embeds Helm's Go library), then what a cluster would be handed: the rendered manifests.
 * No cluster here, so "would Kubernetes run it as intended" is asserted on the manifests.
 * Needs Java 17+, Maven (first run fetches ~100 MB) and `npm run build`; a missing one fails
 * with the script's reason, never a skip.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests, REQUIRED_KINDS } from '../../deploy/helm-check/validate.mjs';
import { runProcess } from '../helpers/run.js';

type Manifest = ReturnType<typeof parseManifests>[number];

const out = mkdtempSync(path.join(tmpdir(), 'shekara-helm-'));
let check: { status: number | null; stdout: string; stderr: string };
const renders = new Map<string, Manifest[]>();

const helmCheck = (...args: string[]) => runProcess('deploy/helm-check.sh', args, { timeout: 900_000 });

/** Renders the chart with extra values; resolves to Helm's output or its error. */
function renderWith(values: string) {
  const file = path.join(out, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, values);
  return helmCheck('render', '-f', file);
}

const one = (docs: Manifest[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};
const gatewayConfig = (docs: Manifest[]) => parse(one(docs, 'ConfigMap').data['shekara.yaml']) as Record<string, any>;
const container = (docs: Manifest[]) => one(docs, 'Deployment').spec.template.spec.containers[0];

beforeAll(async () => {
  check = await helmCheck('check', '--out', out);
  if (check.status !== 0) {
    throw new Error(
      `deploy/helm-check.sh failed (exit ${check.status}):\n${check.stderr.trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  for (const f of readdirSync(out).filter((x) => x.endsWith('.yaml') && !x.startsWith('values-'))) {
    renders.set(path.basename(f, '.yaml'), parseManifests(readFileSync(path.join(out, f), 'utf8'), f));
  }
}, 900_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the Helm chart (deploy/helm/shekara), through the real Helm engine', () => {
  it("passes helm lint --strict and helm template with the chart's values and every check scenario", () => {
    expect(check.stdout).toMatch(/^helm engine: helm-java embedding Helm v3\.\d+\.\d+$/m);
    expect(check.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    const scenarios = readdirSync('deploy/helm-check/scenarios').map((f) => path.basename(f, '.yaml'));
    expect([...renders.keys()].sort()).toEqual(['default', ...scenarios].sort());
    expect(check.stderr).toContain('OK: helm lint --strict and helm template');
  });

  it('renders by default every kind a production install needs, each document with apiVersion and kind', () => {
    const kinds = renders.get('default')!.map((d) => d.kind);
    expect(kinds).toEqual(expect.arrayContaining(REQUIRED_KINDS));
    for (const docs of renders.values()) for (const d of docs) expect(d.apiVersion).toMatch(/^([a-z.]+\/)?v\d/);
  });

  it('defaults to the production shape: PostgreSQL store, Kafka egress, several replicas, TLS for cars', () => {
    const docs = renders.get('default')!;
    const cfg = gatewayConfig(docs);
    expect(cfg.store.kind).toBe('postgres');
    expect(cfg.egress.queue.kind).toBe('kafka');
    expect(cfg.mqtt.tls.enabled).toBe(true);
    expect(cfg.http.tls.enabled).toBe(true);
    const hpa = one(docs, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: one(docs, 'Deployment').metadata.name,
    });
    expect(renders.get('oem-mtls')!.find((d) => d.kind === 'Deployment')!.spec.replicas).toBe(4);
  });

  it("each rendered shekara.yaml passes the gateway's own config check, every key included", () => {
    for (const name of renders.keys())
      expect(check.stdout).toMatch(
        new RegExp(`^validate: ${name}\\.yaml: config /etc/shekara/shekara\\.yaml: valid`, 'm'),
      );
    expect(check.stdout).toMatch(
      /^validate: oem-mtls\.yaml: policy \/etc\/shekara\/policies\/demo-oem\.yaml: OEM demo-oem/m,
    );
    expect(check.stdout).not.toMatch(/not checked/);
  });

  it("gives the pod more grace after SIGTERM than the gateway's shutdownTimeoutMs plus the preStop pause", () => {
    for (const [name, docs] of renders) {
      const pod = one(docs, 'Deployment').spec.template.spec;
      const preStop = Number(container(docs).lifecycle.preStop.exec.command[1]);
      const shutdownMs = gatewayConfig(docs).shutdownTimeoutMs;
      expect(pod.terminationGracePeriodSeconds * 1000, name).toBeGreaterThan(shutdownMs + preStop * 1000);
    }
    expect(gatewayConfig(renders.get('oem-mtls')!).shutdownTimeoutMs).toBe(45_000); // the scenario really moves it
  });

  it('runs the gateway as a non-root user on a read-only root file system, with resources and no API token', () => {
    for (const [name, docs] of renders) {
      const pod = one(docs, 'Deployment').spec.template.spec;
      const c = container(docs);
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
      expect(c.securityContext, name).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources.requests, name).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
      expect(c.resources.limits.memory, name).toBeDefined();
      expect(pod.automountServiceAccountToken).toBe(false);
      // Every path the gateway writes to (dataDir, /tmp) is a volume, since the root is read-only.
      const mounts = c.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      expect(mounts).toEqual(expect.arrayContaining([gatewayConfig(docs).dataDir, '/tmp']));
    }
  });

  it('probes /healthz for liveness and start-up and /readyz for readiness, over HTTPS when TLS is on', () => {
    for (const [name, docs] of renders) {
      const c = container(docs);
      const cfg = gatewayConfig(docs);
      const httpPort = c.ports.find((p: { name: string }) => p.name === 'http').containerPort;
      expect(httpPort, name).toBe(cfg.http.port);
      const scheme = cfg.http.tls.enabled ? 'HTTPS' : 'HTTP';
      expect(c.livenessProbe.httpGet, name).toEqual({ path: '/healthz', port: 'http', scheme });
      expect(c.startupProbe.httpGet, name).toEqual({ path: '/healthz', port: 'http', scheme });
      expect(c.readinessProbe.httpGet, name).toEqual({ path: '/readyz', port: 'http', scheme });
    }
    expect(gatewayConfig(renders.get('tls-terminated')!).http.tls.enabled).toBe(false);
  });

  it('publishes MQTTS and HTTPS to cars, plain MQTT only when asked, each on a port the gateway listens on', () => {
    const servicePorts = (docs: Manifest[]) =>
      Object.fromEntries(
        one(docs, 'Service', 'shekara').spec.ports.map((p: { name: string; port: number }) => [p.name, p.port]),
      );
    expect(servicePorts(renders.get('default')!)).toEqual({ mqtts: 8883, https: 443 });
    expect(servicePorts(renders.get('oem-mtls')!)).toEqual({ mqtts: 8883, https: 443, mqtt: 1883 });
    expect(servicePorts(renders.get('tls-terminated')!)).toEqual({ http: 80, mqtt: 1883 });
    for (const [name, docs] of renders) {
      const cfg = gatewayConfig(docs);
      const listening: Record<string, number> = { mqtt: cfg.mqtt.port, http: cfg.http.port };
      if (cfg.mqtt.tls.enabled) listening.mqtts = cfg.mqtt.tls.port;
      if (cfg.telemetry?.metrics?.prometheus?.enabled) listening.metrics = cfg.telemetry.metrics.prometheus.port;
      const containerPorts = Object.fromEntries(
        container(docs).ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
      );
      expect(containerPorts, name).toEqual(listening);
      const podLabels = one(docs, 'Deployment').spec.template.metadata.labels;
      for (const svc of docs.filter((d) => d.kind === 'Service')) {
        expect(podLabels, `${name} ${svc.metadata.name}`).toMatchObject(svc.spec.selector);
        for (const p of svc.spec.ports)
          expect(Object.keys(containerPorts), `${name} ${svc.metadata.name}`).toContain(p.targetPort);
      }
    }
  });

  it('keeps the store URL and signing keys out of the ConfigMap: the Secret carries them', () => {
    const docs = renders.get('oem-mtls')!;
    const configMapText = JSON.stringify(one(docs, 'ConfigMap'));
    expect(configMapText).not.toContain('postgres://');
    expect(configMapText).not.toContain('check-only');
    const secret = one(docs, 'Secret');
    const decoded = Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded['store-url']).toBe('postgres://shekara:check-only@pg.shekara.svc:5432/shekara');
    expect(decoded['oem-demo-oem.key']).toMatch(/check-only$/);
    expect(container(docs).env).toContainEqual({
      name: 'SHEKARA_STORE_URL',
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'store-url' } },
    });
    // One store key for every replica: from the Secret, never generated on a pod's own disk.
    expect(decoded['store-key']).toBe(Buffer.from('check-only-check-only-check-only').toString('base64'));
    expect(container(docs).env).toContainEqual({
      name: 'SHEKARA_STORE_KEY',
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'store-key' } },
    });
    // The key file the config names is where the projected volume puts the Secret's key.
    const cfg = gatewayConfig(docs);
    const sources = one(docs, 'Deployment').spec.template.spec.volumes.find(
      (v: { name: string }) => v.name === 'config',
    ).projected.sources;
    const secretItems = sources
      .filter((s: { secret?: unknown }) => s.secret)
      .flatMap((s: { secret: { items: { path: string }[] } }) => s.secret.items.map((i) => `/etc/shekara/${i.path}`));
    expect(secretItems).toContain(cfg.oems[0].signingKeyFile);
    expect(secretItems).toEqual(
      expect.arrayContaining([
        cfg.mqtt.tls.certFile,
        cfg.mqtt.tls.keyFile,
        cfg.mqtt.tls.clientCaFile,
        cfg.mqtt.tls.crlFile,
      ]),
    );
    // With secret.create false the operator's Secret is used and the chart renders none.
    const byo = renders.get('tls-terminated')!;
    expect(byo.some((d) => d.kind === 'Secret')).toBe(false);
    expect(
      container(byo).env.find((e: { name: string }) => e.name === 'SHEKARA_STORE_URL').valueFrom.secretKeyRef.name,
    ).toBe('shekara-existing');
  });

  it('lets a node drain take one gateway at a time, selecting exactly the gateway pods', () => {
    const docs = renders.get('default')!;
    const pdb = one(docs, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(one(docs, 'Deployment').spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('prints install notes that say what is still missing before the pods can start', () => {
    const notes = (name: string) => readFileSync(path.join(out, `${name}.notes.txt`), 'utf8');
    expect(notes('default')).toContain('WARNING: secret.storeUrl is empty');
    expect(notes('default')).toContain('WARNING: secret.storeKey is empty');
    expect(notes('default')).toContain('kubectl -n shekara create secret tls shekara-tls');
    expect(notes('default')).toContain('No OEM is configured, so nothing leaves the country');
    expect(notes('oem-mtls')).not.toContain('WARNING');
    expect(notes('oem-mtls')).toContain('MQTT   port 1883   (plain');
    expect(notes('tls-terminated')).toContain('from your Secret shekara-existing, keys store-url and\nstore-key');
  });

  // Each value set the chart must refuse, with the reason Helm prints. Rendered in one JVM
  // (`renders`): a JVM start and Helm's library load cost more than a render.
  const refused: [what: string, values: string, reason: string][] = [
    [
      'a store other than PostgreSQL',
      'config:\n  store:\n    kind: sqlite\n',
      'config.store.kind: this chart runs the PostgreSQL store',
    ],
    [
      'a store URL in the ConfigMap',
      'config:\n  store:\n    kind: postgres\n    url: postgres://u:p@h/db\n',
      'config.store.url: the URL holds a password',
    ],
    ['a listener the chart owns', 'config:\n  http:\n    port: 9000\n', 'config.http: set by the chart'],
    ['a misspelt value', 'replicaCont: 3\n', "additional properties 'replicaCont' not allowed"],
    [
      'an HMAC key shorter than 32 bytes',
      'secret:\n  oemSigningKeys:\n    acme: short\n',
      'secret.oemSigningKeys.acme: an HMAC key needs at least 32 bytes, got 5',
    ],
    [
      'an OEM whose policy file is not among the policies',
      'config:\n  oems:\n    - { id: acme, endpoint: "https://a.example/x", policyFile: policies/acme.yaml }\n',
      'config.oems[acme].policyFile: policies/acme.yaml is not in policies',
    ],
    [
      'a revocation list without a vehicle CA',
      'tls:\n  crl:\n    secretName: crl\n',
      'tls.crl.secretName: needs tls.clientCa.secretName',
    ],
  ];
  const refusals = new Map<string, { rendered: boolean; error: string | undefined }>();
  beforeAll(async () => {
    const dir = path.join(out, 'refusals');
    const sets = refused.map(([, values], i) => {
      const file = path.join(out, `values-refused-${i}.yaml`);
      writeFileSync(file, values);
      return `r${i}=${file}`;
    });
    const r = await helmCheck('renders', '--out', dir, ...sets);
    if (r.status !== 0) throw new Error(`deploy/helm-check.sh renders failed (exit ${r.status}):\n${r.stderr}`);
    const has = new Set(readdirSync(dir));
    refused.forEach(([what], i) =>
      refusals.set(what, {
        rendered: has.has(`r${i}.yaml`),
        error: has.has(`r${i}.error`) ? readFileSync(path.join(dir, `r${i}.error`), 'utf8') : undefined,
      }),
    );
  }, 900_000);

  it.each(refused)('refuses %s with the reason', (what, _values, reason) => {
    expect(refusals.get(what)).toEqual({ rendered: false, error: expect.stringContaining(reason) });
  });

  it("render, one value set at a time, exits 1 with Helm's reason when the chart refuses it", async () => {
    const r = await renderWith(refused.find(([what]) => what === 'a misspelt value')![1]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("additional properties 'replicaCont' not allowed");
    expect(r.stdout).toBe('');
  });
});
