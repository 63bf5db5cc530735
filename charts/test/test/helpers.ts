// Shared by the chart tests: builds the Go renderer (charts/test/render) and renders the chart.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/** Repository root (this file runs from charts/test/dist/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CHART = join(ROOT, 'charts', 'tricolor');
const RENDER_SRC = join(ROOT, 'charts', 'test', 'render');
const RENDER_BIN = join(ROOT, 'charts', 'test', '.render', 'render');

/** Debian packages the renderer is built from (scripts/setup.sh installs them). */
export const GO_PACKAGES =
  'golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev';

let built = false;
/** Builds charts/test/render offline from Debian's Go sources; throws with the fix if Go is missing. */
export function renderer(): string {
  if (built) return RENDER_BIN;
  const src = join(RENDER_SRC, 'main.go');
  if (existsSync(RENDER_BIN) && statSync(RENDER_BIN).mtimeMs >= statSync(src).mtimeMs) {
    built = true;
    return RENDER_BIN;
  }
  mkdirSync(dirname(RENDER_BIN), { recursive: true });
  const tmp = `${RENDER_BIN}.${process.pid}`;
  const r = spawnSync('go', ['build', '-o', tmp, '.'], {
    cwd: RENDER_SRC,
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '' },
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `cannot build the chart renderer (charts/test/render): ${r.error?.message ?? r.stderr}\n` +
        `install Go and the Go sources it uses: apt-get install ${GO_PACKAGES}`,
    );
  }
  renameSync(tmp, RENDER_BIN); // atomic: test files build in parallel
  built = true;
  return RENDER_BIN;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
  spec?: any;
  data?: Record<string, string>;
}

export interface Rendered {
  ok: boolean;
  stdout: string;
  stderr: string;
  objects: K8sObject[];
}

/** Minimal values every install needs (etcd has no default). */
export const ETCD = { etcd: { endpoints: ['http://10.96.232.136:6666'] } };

/** `helm template` equivalent: values files are written from `values`, in order. */
export function render(values: object[] = [ETCD], set: string[] = []): Rendered {
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-chart-'));
  try {
    const args: string[] = ['--name', 'tricolor', '--namespace', 'kube-system'];
    values.forEach((v, i) => {
      const f = join(dir, `values-${i}.yaml`);
      writeFileSync(f, JSON.stringify(v));
      args.push('-f', f);
    });
    for (const s of set) args.push('--set', s);
    const r = spawnSync(renderer(), [...args, CHART], { encoding: 'utf8' });
    const objects: K8sObject[] = [];
    if (r.status === 0) {
      for (const doc of parseAllDocuments(r.stdout)) {
        if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
        const o = doc.toJS({ maxAliasCount: -1 });
        if (o) objects.push(o as K8sObject);
      }
    }
    return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr, objects };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function chartDefaults(): Record<string, unknown> {
  return parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
}

export function find(objs: K8sObject[], kind: string, nameSuffix = ''): K8sObject | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
}

/** Every .ts file under a package's src (empty if the package has none yet). */
export function sourceText(pkg: string): string {
  const dir = join(ROOT, 'packages', pkg, 'src');
  if (!existsSync(dir)) return '';
  let text = '';
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts')) text += `${readFileSync(p, 'utf8')}\n`;
    }
  };
  walk(dir);
  return text;
}

/** Environment variable names a package's source reads: string literals ('FELIX_X') or env.NAME. */
export function envNamesIn(text: string): Set<string> {
  const quoted = [...text.matchAll(/['"`]([A-Z][A-Z0-9_]{1,})['"`]/g)].map((m) => m[1]!);
  const member = [...text.matchAll(/\benv\.([A-Z][A-Z0-9_]{1,})\b/g)].map((m) => m[1]!);
  return new Set([...quoted, ...member]);
}

/** Deep-merges b over a like Helm merges user values over the chart's: null deletes a key. */
export function merge<T>(a: T, b: unknown): T {
  if (
    typeof a !== 'object' ||
    a === null ||
    Array.isArray(a) ||
    typeof b !== 'object' ||
    b === null ||
    Array.isArray(b)
  )
    return b as T;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = k in out ? merge(out[k], v) : v;
  }
  return out as T;
}
