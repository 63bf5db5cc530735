import {
  BatchSession,
  eachRoute,
  ipJson,
  lineSplitter,
  linkExists,
  linkNames,
  type Runner,
  readSysctl,
  run,
  Spawner,
  writeSysctl,
} from '@tricolor/linux';
import type { Table } from '../calc/iptables/rules.js';
import { OwnWrites, watchIptablesNft } from './iptables-monitor.js';
import { type ParsedTable, saveParser } from './iptables-render.js';
import type { FdbEntry, LinkState } from './items.js';
import type { KernelIO, KernelIpset } from './kernel-io.js';

export type Backend = 'nft' | 'legacy';

/** The tools of a backend and IP family: `iptables-nft-save`, `ip6tables-legacy-restore`, … */
export const binaries = (b: Backend, family: 4 | 6 = 4) => {
  const tool = family === 6 ? 'ip6tables' : 'iptables';
  return { save: `${tool}-${b}-save`, restore: `${tool}-${b}-restore`, iptables: `${tool}-${b}` };
};

/** Reads the tables with the backend's iptables-save, parsed while it prints; the read-back for tests too. */
export async function readTables(
  backend: Backend,
  family: 4 | 6 = 4,
  chainPrefix = 'tri-',
  runner: Runner = run,
  bodies: 'all' | 'hooks' = 'all',
): Promise<Map<Table, ParsedTable>> {
  const parser = saveParser(chainPrefix, { bodies });
  const lines = lineSplitter(parser.line);
  await runner(binaries(backend, family).save, [], { onStdout: lines.push });
  lines.end();
  return parser.result();
}

/**
 * Picks the backend the host already uses: the one whose tables hold rules (kube-proxy,
 * docker or the distribution put them there). Debian 12 defaults to nft.
 */
export async function detectBackend(): Promise<Backend> {
  const count = async (b: Backend) => {
    const r = await run(binaries(b).save, [], { allowFail: true });
    if (r.code !== 0) return -1;
    return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
  };
  const [legacy, nft] = await Promise.all([count('legacy'), count('nft')]);
  return legacy > 0 && legacy > nft ? 'legacy' : 'nft';
}

/** Whether this host's ip6tables (of the backend) can be read, i.e. has IPv6 netfilter. */
export async function ip6tablesUsable(backend: Backend): Promise<boolean> {
  const r = await run(binaries(backend, 6).save, [], { allowFail: true });
  return r.code === 0;
}

interface IpLink {
  ifname: string;
  mtu: number;
  address?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string } };
}

interface IpAddr {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** One link with its details and IPv4 addresses; undefined when absent. */
export async function readLink(name: string, runner: Runner = run): Promise<LinkState | undefined> {
  const links = await ipJson<IpLink>(['-d', 'link', 'show', 'dev', name], { runner }).catch(
    () => [] as IpLink[],
  );
  const l = links[0];
  if (!l) return undefined;
  const addrs = await ipJson<IpAddr>(['-4', 'addr', 'show', 'dev', name], { runner }).catch(
    () => [] as IpAddr[],
  );
  const out: LinkState = {
    name,
    mtu: l.mtu,
    up: Boolean(l.flags?.includes('UP')),
    addresses: (addrs[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
  };
  if (l.linkinfo?.info_kind) out.kind = l.linkinfo.info_kind;
  if (l.address) out.mac = l.address.toLowerCase();
  const d = l.linkinfo?.info_data;
  if (d?.id !== undefined) out.vni = d.id;
  if (d?.port !== undefined) out.port = d.port;
  if (d?.local) out.local = d.local;
  return out;
}

/** The interface holding an address, with its MTU: the underlay of the tunnel. */
export async function findInterfaceWithAddress(
  ip: string,
  runner: Runner = run,
): Promise<{ name: string; mtu: number } | undefined> {
  const rows = await ipJson<IpAddr>(['-4', 'addr', 'show'], { runner });
  for (const r of rows) if (r.addr_info?.some((a) => a.local === ip)) return { name: r.ifname, mtu: r.mtu };
  return undefined;
}

/** Every ipset (names, types and members); the read-back for tests and the driver. */
export async function readIpsets(runner: Runner = run): Promise<Map<string, KernelIpset>> {
  const { stdout } = await runner('ipset', ['save'], { allowFail: true });
  const out = new Map<string, KernelIpset>();
  for (const line of stdout.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'create' && parts[1]) {
      const fam = parts.indexOf('family');
      out.set(parts[1], {
        name: parts[1],
        type: parts[2] ?? '',
        family: fam > 0 ? (parts[fam + 1] ?? 'inet') : 'inet',
        members: [],
      });
    } else if (parts[0] === 'add' && parts[1] && parts[2]) out.get(parts[1])?.members.push(parts[2]);
  }
  return out;
}

/**
 * felix's RSS from which tools are started by a helper process: an idle node's felix stays
 * below it (~110 MiB) and spares the helper's ~50 MiB; at thousands of endpoints it is above.
 */
const SPAWN_HELPER_ABOVE_RSS = 256 * 1024 * 1024;

/**
 * The real kernel, through `@tricolor/linux` and the iptables tools of `backend`. Route,
 * neighbor and FDB writes go through long-running `ip`/`bridge -batch` processes
 * (`BatchSession`: no process start per write, one link dump per `ip` for `ip neigh`);
 * every other tool is started through a `Spawner`: from a small helper process once felix is
 * large enough that its own forks would hold up its event loop; reads run niced, so they do
 * not take CPU from the writes.
 */
export function linuxKernel(backend: Backend, chainPrefix: string): KernelIO {
  const ip = new BatchSession('ip');
  const bridge = new BatchSession('bridge');
  const spawner = new Spawner({ helperAboveRss: SPAWN_HELPER_ABOVE_RSS });
  const runner: Runner = (file, args, opts) => spawner.run(file, args, opts);
  // Reads (most run beside the applies, on the refresh timers) leave the CPU to the writes
  // a change is waiting for: an iptables-save of 50,000 rules is seconds of a core.
  const reader: Runner = (file, args, opts) => spawner.run(file, args, { ...opts, nice: 10 });
  // felix's own commits, told apart from someone else's in the nft event stream.
  const own = new OwnWrites();
  return {
    readRoutes: (each) => eachRoute({ runner: reader }, each),
    readNeighbors: async () => {
      const rows = await ipJson<{ dst: string; dev: string; lladdr?: string }>(
        ['neigh', 'show', 'nud', 'permanent'],
        {
          runner,
        },
      );
      return rows
        .filter((r) => r.lladdr)
        .map((r) => ({ ip: r.dst, dev: r.dev, mac: r.lladdr!.toLowerCase() }));
    },
    ipBatch: (lines) => ip.run(lines),
    ip: async (args) => {
      const r = await runner('ip', args, { allowFail: true });
      return { code: r.code, stderr: r.stderr };
    },
    linkExists,
    linkNames,
    readLink: (name) => readLink(name, runner),
    underlayFor: (addr) => findInterfaceWithAddress(addr, runner),
    readFdb: async (dev) => {
      const r = await reader('bridge', ['-json', 'fdb', 'show', 'dev', dev], { allowFail: true });
      const rows =
        r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { mac: string; dst?: string }[]) : [];
      return rows
        .filter((x) => x.dst && x.mac !== '00:00:00:00:00:00')
        .map((x): FdbEntry => ({ dev, mac: x.mac.toLowerCase(), dst: x.dst! }));
    },
    bridgeBatch: (lines) => bridge.run(lines),
    readSysctl,
    // A /proc/sys read takes microseconds: done at once (the driver reads in chunks and
    // yields between them), not through the thread pool.
    readSysctlAsync: async (key) => readSysctl(key),
    writeSysctl,
    readIpsets: () => readIpsets(reader),
    ipsetRestore: async (lines) => {
      await runner('ipset', ['restore'], { input: `${lines.join('\n')}\n` });
    },
    readIptables: (family) => readTables(backend, family, chainPrefix, reader, 'hooks'),
    iptablesRestore: async (family, script) => {
      own.begin();
      let pid: number | undefined;
      try {
        ({ pid } = await runner(binaries(backend, family).restore, ['--noflush', '-w', '5'], {
          input: script,
        }));
      } finally {
        own.end(pid);
      }
    },
    watchIptables: (onDrift) => {
      if (backend !== 'nft') return undefined;
      own.onForeign = onDrift;
      return watchIptablesNft(chainPrefix, own);
    },
    devicesChanged: () => {
      ip.recycle();
      bridge.recycle();
    },
    ready: async () => {
      await spawner.ready();
    },
    close: () => {
      ip.close();
      bridge.close();
      spawner.close();
    },
  };
}
