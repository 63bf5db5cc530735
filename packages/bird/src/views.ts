/**
 * What tricolor-birdc shows, in BIRD's words: `show status`, `show protocols [all] [NAME]`,
 * `show route [PREFIX | for ADDR | protocol NAME | export NAME | count]`. Read-only views of
 * the speaker, as plain data (the CLI renders tables, JSON or YAML).
 */
import { type Capability, openCapabilities, parsePrefix } from 'bgp-parser-ts';
import type { FamilyName, PeerFigures } from './metrics.js';
import { originName } from './rib/attrs.js';
import type { PathRef } from './rib/loc-rib.js';
import { v4String } from './rib/prefix-table.js';
import { canonical, u32 } from './rib/prefix-text.js';
import type { PeerEntry, Speaker } from './speaker.js';

/** One prefix of `show route`: its paths, best first. */
export interface RouteView {
  prefix: string;
  paths: PathView[];
  /** The kernel route installed for it, when the kernel is programmed and one is. */
  kernel?: string;
}

export interface PathView {
  from: string;
  nextHop: string;
  asPath: string;
  localPref?: number;
  med?: number;
  origin: string;
  best: boolean;
  stale: boolean;
}

export const COMMANDS = [
  'show status',
  'show protocols',
  'show protocols all [NAME]',
  'show route [PREFIX]',
  'show route for ADDR',
  'show route protocol NAME',
  'show route export NAME',
  'show route count',
] as const;

export class CommandError extends Error {}

export type CommandHandler = (cmd: string, args: string[]) => unknown;

export function commandHandler(sp: Speaker): CommandHandler {
  const peerNamed = (name: string | undefined): PeerEntry => {
    if (!name) throw new CommandError('a protocol name is needed (see show protocols)');
    const e = sp.peer(name);
    if (!e) throw new CommandError(`no protocol ${JSON.stringify(name)} (see show protocols)`);
    return e;
  };
  return (cmd, args) => {
    if (cmd === 'show status') return status(sp);
    if (cmd === 'show protocols') {
      if (args[0] === 'all') return protocolsAll(sp, args[1] ? [peerNamed(args[1])] : [...sp.peers.values()]);
      if (args[0]) return protocols(sp).filter((p) => p.name === args[0] || p.address === args[0]);
      return protocols(sp);
    }
    if (cmd === 'show route') {
      const [sub, arg] = args;
      if (sub === undefined) return routes(sp);
      if (sub === 'for') return routeFor(sp, arg);
      if (sub === 'protocol') return routesFrom(sp, peerNamed(arg));
      if (sub === 'export') return routesExported(sp, peerNamed(arg));
      if (sub === 'count') return routeCount(sp);
      return routes(sp, sub);
    }
    throw new CommandError(`unknown command ${JSON.stringify(cmd)} (read-only: ${COMMANDS.join(', ')})`);
  };
}

export function status(sp: Speaker) {
  return {
    routerId: sp.cfg.routerId,
    as: sp.cfg.localAs,
    clusterId: sp.cfg.clusterId ?? null,
    uptimeSeconds: Math.round((Date.now() - sp.startedAt) / 1000),
    restarting: sp.restarting,
    peers: sp.peers.size,
    established: [...sp.peers.values()].filter((e) => e.session.established).length,
    locRibPrefixes: sp.rib.size,
    attributeSets: sp.store.size,
    outboundSets: sp.exporter.out.size,
    exported: sp.exported,
    kernelRoutes: sp.kernel?.installed ?? null,
    kernelPending: sp.kernel?.pending ?? null,
    ready: sp.readiness(),
    rssBytes: process.memoryUsage.rss(),
    memory: process.memoryUsage(),
    eventLoopDelayMs: {
      p50: Math.round(sp.loopDelay.percentile(50) / 1e6),
      p99: Math.round(sp.loopDelay.percentile(99) / 1e6),
      max: Math.round(sp.loopDelay.max / 1e6),
    },
  };
}

function since(e: PeerEntry): string {
  return new Date(e.session.stats.lastStateChange).toISOString();
}

export function protocols(sp: Speaker) {
  return [...sp.peers.values()].map((e) => {
    const n = e.session.negotiated;
    const up = e.session.established && n;
    return {
      name: e.session.cfg.name,
      address: e.spec.address,
      port: e.spec.port ?? 179,
      as: up ? n.peerAs : (e.spec.as ?? sp.cfg.localAs),
      type: e.rib.ebgp ? 'eBGP' : 'iBGP',
      passive: e.spec.passive ?? false,
      rrClient: e.spec.rrClient ?? false,
      state: e.session.state,
      since: since(e),
      routerId: up ? ipv4(n.peerId) : '',
      holdTime: up ? n.holdTime : undefined,
      families: up ? [...n.families] : [],
      gracefulRestart: { negotiated: !!n?.gracefulRestart, pending: !!e.grTimer },
      prefixesReceived: e.rib.adjIn.size,
      prefixesSent: e.channel?.size ?? 0,
      updatesIn: e.session.stats.rx.update,
      updatesOut: e.session.stats.tx.update,
      establishedTotal: e.session.stats.establishedTotal,
      lastError: e.session.stats.lastError,
    };
  });
}

/** Every peer's figures for a Prometheus scrape (metrics.ts names them). */
export function peerFigures(sp: Speaker): PeerFigures[] {
  const now = Date.now();
  return [...sp.peers.values()].map((e) => {
    const s = e.session;
    const enabled = new Set<string>(s.negotiated?.families ?? s.cfg.families);
    const adj = e.rib.adjIn;
    let importedV6 = 0;
    let importedV4 = adj.v4.size;
    // IPv6 and add-path IPv4 paths live in the map keyed by prefix text.
    for (const [prefix, paths] of adj.other)
      if (prefix.includes(':')) importedV6 += paths.size;
      else importedV4 += paths.size;
    const exported = e.channel?.sizes ?? { ipv4: 0, ipv6: 0 };
    const family = (f: FamilyName, imported: number) => ({
      ...e.changes[f],
      enabled: enabled.has(f),
      imported,
      exported: exported[f],
    });
    const at = s.timing.establishedAt;
    return {
      name: s.cfg.name,
      address: e.spec.address,
      established: s.established,
      uptimeSeconds: at ? Math.max(0, Math.round((now - at) / 1000)) : 0,
      received: s.stats.rx,
      sent: s.stats.tx,
      families: { ipv4: family('ipv4', importedV4), ipv6: family('ipv6', importedV6) },
    };
  });
}

function capabilityNames(caps: Capability[]): string[] {
  const out: string[] = [];
  const mp = caps.flatMap((c) =>
    c.kind === 'multiprotocol' && c.safi === 1
      ? [c.afi === 1 ? 'ipv4' : c.afi === 2 ? 'ipv6' : `afi ${c.afi}`]
      : [],
  );
  if (mp.length) out.push(`Multiprotocol: ${mp.join(' ')}`);
  for (const c of caps) {
    if (c.kind === 'route-refresh') out.push('Route refresh');
    else if (c.kind === 'graceful-restart')
      out.push(
        `Graceful restart: restart time ${c.restartTime} s${c.restartFlags & 8 ? ', restarting' : ''}; ` +
          `families ${c.families.map((f) => `${f.afi === 1 ? 'ipv4' : 'ipv6'}${f.flags & 0x80 ? ' (forwarding kept)' : ''}`).join(', ') || 'none'}`,
      );
    else if (c.kind === 'four-octet-as') out.push('4-octet AS numbers');
    else if (c.kind === 'add-path')
      out.push(
        `ADD-PATH: ${c.families.map((f) => `${f.afi === 1 ? 'ipv4' : 'ipv6'} ${['', 'rx', 'tx', 'rx/tx'][f.mode] ?? f.mode}`).join(', ')}`,
      );
    else if (c.kind === 'extended-message') out.push('Extended message');
  }
  return out;
}

export function protocolsAll(sp: Speaker, entries: PeerEntry[]) {
  const summary = new Map(protocols(sp).map((p) => [p.name, p]));
  return entries.map((e) => {
    const s = e.session;
    const n = s.negotiated;
    const t = s.timing;
    const ends = s.endpoints;
    return {
      ...summary.get(s.cfg.name)!,
      localAs: sp.cfg.localAs,
      localAddress: ends?.local ?? e.spec.localAddress ?? '',
      localPort: ends?.localPort ?? null,
      remotePort: ends?.remotePort ?? null,
      connection: ends ? (ends.outgoing ? 'outgoing' : 'incoming') : null,
      /** Whether segments are signed (never the password itself). */
      authentication: e.spec.password === undefined ? 'none' : 'tcp-md5',
      timers: {
        holdTime: t.holdTime || null,
        keepaliveTime: t.keepaliveTime || null,
        configuredHoldTime: s.cfg.holdTime,
        connectRetry: t.connectRetry,
        uptimeSeconds: t.establishedAt ? Math.round((Date.now() - t.establishedAt) / 1000) : null,
        flaps: t.flaps,
      },
      capabilities: {
        local: capabilityNames(openCapabilities(s.localOpen)),
        neighbor: s.remoteOpen ? capabilityNames(openCapabilities(s.remoteOpen)) : [],
      },
      routes: {
        imported: e.rib.adjIn.size,
        exported: e.channel?.size ?? 0,
        exportPending: e.channel?.pending ?? 0,
        stale: !!e.grTimer,
      },
      messages: { received: { ...s.stats.rx }, sent: { ...s.stats.tx } },
      collisions: s.stats.collisions,
      writeQueueBytes: s.writeQueue,
      negotiated: n
        ? { families: [...n.families], routeRefresh: n.routeRefresh, fourOctetAs: n.ctx.fourOctetAs }
        : null,
    };
  });
}

function pathViews(sp: Speaker, paths: readonly PathRef[]): PathView[] {
  return paths.map((r, i) => {
    const s = sp.store.get(r.attrId);
    const src = sp.rib.peers[r.peer];
    const o: PathView = {
      from: src?.local ? 'local' : (src?.name ?? '?'),
      nextHop: src?.local ? 'self' : s.nextHop,
      asPath: s.asPath.map((g) => (g.type === 1 ? `{${g.asns.join(' ')}}` : g.asns.join(' '))).join(' '),
      origin: originName(s.origin),
      best: i === 0,
      stale: r.stale,
    };
    if (s.localPref !== undefined) o.localPref = s.localPref;
    if (s.med !== undefined) o.med = s.med;
    return o;
  });
}

function view(sp: Speaker, prefix: string, paths: readonly PathRef[]): RouteView {
  const v: RouteView = { prefix, paths: pathViews(sp, paths) };
  const k = sp.kernel?.routeOf(prefix);
  if (k) v.kernel = k;
  return v;
}

const byPrefix = (a: RouteView, b: RouteView) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0);

/** The Loc-RIB (or one prefix of it). */
export function routes(sp: Speaker, prefix?: string): RouteView[] {
  const out: RouteView[] = [];
  if (prefix) {
    const p = canonicalOrThrow(prefix);
    out.push(view(sp, p, sp.rib.paths(p)));
  } else sp.rib.forEachRoute((p, paths) => out.push(view(sp, p, paths)));
  return out.sort(byPrefix);
}

/** The route a packet to ADDR takes: the longest prefix holding it. */
export function routeFor(sp: Speaker, addr: string | undefined): RouteView[] {
  if (!addr) throw new CommandError('show route for: an address is needed');
  let pf: ReturnType<typeof parsePrefix>;
  try {
    pf = parsePrefix(addr.includes('/') ? addr : `${addr}/${addr.includes(':') ? 128 : 32}`);
  } catch {
    throw new CommandError(`show route for: ${JSON.stringify(addr)} is not an address`);
  }
  if (pf.afi === 1) {
    const a = u32(pf.addr);
    for (let len = pf.len; len >= 0; len--) {
      const net = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
      const paths = sp.rib.pathsV4(net, len);
      if (paths.length) return [view(sp, v4String(net, len), paths)];
    }
    return [];
  }
  let best: { p: string; len: number; paths: PathRef[] } | undefined;
  for (const [p, paths] of sp.rib.other) {
    const c = parsePrefix(p);
    if (c.afi !== 2 || c.len > pf.len || (best && c.len <= best.len)) continue;
    let inside = true;
    for (let bit = 0; bit < c.len && inside; bit++) {
      const m = 0x80 >> (bit & 7);
      if ((c.addr[bit >> 3]! & m) !== (pf.addr[bit >> 3]! & m)) inside = false;
    }
    if (inside) best = { p, len: c.len, paths };
  }
  return best ? [view(sp, best.p, best.paths)] : [];
}

/** Everything a peer announced (its Adj-RIB-In), marked where it is the best path. */
export function routesFrom(sp: Speaker, e: PeerEntry): RouteView[] {
  const out: RouteView[] = [];
  const idx = e.rib.idx;
  const add = (prefix: string, attrId: number, pathId: number, stale: boolean) => {
    const best = sp.rib.paths(prefix)[0];
    const ref: PathRef = { peer: idx, attrId, pathId, stale };
    const [p] = pathViews(sp, [ref]);
    p!.best = !!best && best.peer === idx && best.attrId === attrId;
    out.push({ prefix, paths: [p!] });
  };
  e.rib.adjIn.v4.forEach((addr, len, attrId, flags) => {
    add(v4String(addr, len), attrId, 0, (flags & 1) === 1);
  });
  for (const [prefix, m] of e.rib.adjIn.other)
    for (const [pathId, v] of m) add(prefix, v >> 1, pathId, (v & 1) === 1);
  return out.sort(byPrefix);
}

/** What we advertise to a peer (its Adj-RIB-Out), with the next hop it carries. */
export function routesExported(sp: Speaker, e: PeerEntry): RouteView[] {
  if (!e.channel) return [];
  return e.channel
    .exported()
    .map((x) => {
      const v = view(sp, x.prefix, sp.rib.paths(x.prefix));
      v.paths = v.paths.slice(0, 1).map((p) => ({ ...p, nextHop: x.nextHop }));
      return v;
    })
    .sort(byPrefix);
}

export function routeCount(sp: Speaker) {
  let routes = 0;
  for (const p of sp.rib.peers) if (p) routes += p.adjIn.size;
  return {
    routes,
    networks: sp.rib.size,
    kernelRoutes: sp.kernel?.installed ?? null,
    exported: Object.fromEntries(
      [...sp.peers.values()].map((e) => [e.session.cfg.name, e.channel?.size ?? 0]),
    ),
  };
}

function canonicalOrThrow(prefix: string): string {
  try {
    return canonical(prefix);
  } catch {
    throw new CommandError(`${JSON.stringify(prefix)} is not a prefix`);
  }
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
