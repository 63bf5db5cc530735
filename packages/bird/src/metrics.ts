/**
 * Prometheus metrics (prom-client, own registry). prom-client is loaded only when metrics
 * are served (`Metrics.load()`); a speaker that serves none keeps `Metrics.none()`, whose
 * instruments do nothing.
 *
 * Per-peer figures use the names their users know: GoBGP's (`bgp_received_*_total`,
 * `bgp_sent_*_total`, `bgp_routes_accepted{peer,route_family}`) and bird_exporter's for
 * BIRD's protocols (`bird_protocol_up`, `bird_protocol_uptime`,
 * `bird_protocol_prefix_{import,export}_count`, `bird_protocol_changes_*_count`, labelled
 * `name`, `proto`, `ip_version`). They are read from the speaker when Prometheus scrapes
 * (`PeerFigures`), so the hot paths only bump plain numbers.
 */
import { collectProcessMetrics } from '@tricolor/contract';
import type { Registry } from 'prom-client';

type PromClient = typeof import('prom-client');
type Labels = Record<string, string>;

export interface GaugeLike {
  set(labels: Labels, value: number): void;
  set(value: number): void;
  remove(labels: Labels): void;
}
export interface CounterLike {
  inc(labels: Labels, value?: number): void;
  inc(value?: number): void;
  remove(labels: Labels): void;
}
export interface HistogramLike {
  observe(value: number): void;
}

const NOOP = { set() {}, remove() {}, inc() {}, observe() {} } as GaugeLike & CounterLike & HistogramLike;

export const STATE_NUMBER: Record<string, number> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** RFC 7606 actions that keep the session (a session reset is a NOTIFICATION sent). */
export const UPDATE_ERROR_ACTIONS = ['treat-as-withdraw', 'attribute-discard'] as const;

export const MESSAGE_KINDS = ['open', 'update', 'notification', 'keepalive', 'refresh'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Route changes of one address family, BIRD's "route change stats" (prefixes, not messages). */
export interface FamilyChanges {
  /** Prefixes announced by the peer: accepted and filtered (import policy, loops). */
  importUpdates: number;
  importFiltered: number;
  importWithdraws: number;
  /** Prefixes announced and withdrawn towards the peer. */
  exportUpdates: number;
  exportWithdraws: number;
}

export const FAMILIES = ['ipv4', 'ipv6'] as const;
export type FamilyName = (typeof FAMILIES)[number];

/** One peer as the scrape reads it. */
export interface PeerFigures {
  /** The protocol name (`show protocols`). */
  name: string;
  address: string;
  established: boolean;
  /** Seconds since Established; 0 while down. */
  uptimeSeconds: number;
  received: Record<MessageKind, number>;
  sent: Record<MessageKind, number>;
  families: Record<FamilyName, FamilyChanges & { enabled: boolean; imported: number; exported: number }>;
}

const ROUTE_FAMILY: Record<FamilyName, string> = { ipv4: 'ipv4-unicast', ipv6: 'ipv6-unicast' };
const IP_VERSION: Record<FamilyName, string> = { ipv4: '4', ipv6: '6' };

export class Metrics {
  readonly registry: Registry | undefined;
  readonly sessionState: GaugeLike;
  readonly establishedTotal: CounterLike;
  readonly updateErrors: CounterLike;
  readonly locRibPrefixes: GaugeLike;
  readonly routesInstalled: GaugeLike;
  readonly kernelWriteSeconds: HistogramLike;
  readonly kernelRepairs: CounterLike;

  /** Instruments that record nothing (no metrics served). */
  static none(): Metrics {
    return new Metrics(undefined, () => []);
  }

  /**
   * Loads prom-client and registers the instruments in a registry of their own, with the
   * process metrics every Tricolor daemon serves (`process_*`, `nodejs_*`); `peers` is read
   * once per scrape.
   */
  static async load(peers: () => PeerFigures[], opts: { processMetrics?: boolean } = {}): Promise<Metrics> {
    const prom = await import('prom-client');
    const m = new Metrics(prom, peers);
    if (opts.processMetrics !== false) collectProcessMetrics(prom, m.registry!);
    return m;
  }

  private constructor(prom: PromClient | undefined, peers: () => PeerFigures[]) {
    if (!prom) {
      this.registry = undefined;
      this.sessionState = this.establishedTotal = this.updateErrors = this.locRibPrefixes = NOOP;
      this.routesInstalled = this.kernelWriteSeconds = this.kernelRepairs = NOOP;
      return;
    }
    const { Counter, Gauge, Histogram, Registry } = prom;
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    this.sessionState = new Gauge({
      name: 'bgp_session_state',
      help: 'BGP FSM state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established',
      labelNames: ['peer'],
      registers,
    });
    this.establishedTotal = new Counter({
      name: 'bgp_session_established_total',
      help: 'Times a session reached Established',
      labelNames: ['peer'],
      registers,
    });
    this.updateErrors = new Counter({
      name: 'bgp_update_errors_total',
      help: 'Malformed UPDATEs handled per RFC 7606 without a session reset, by action',
      labelNames: ['peer', 'action'],
      registers,
    });
    this.locRibPrefixes = new Gauge({
      name: 'bgp_loc_rib_prefixes',
      help: 'Prefixes in the Loc-RIB',
      registers,
    });
    this.routesInstalled = new Gauge({
      name: 'bgp_routes_installed',
      help: 'Routes bird keeps in the kernel (proto bird)',
      registers,
    });
    this.kernelWriteSeconds = new Histogram({
      name: 'bird_kernel_write_seconds',
      help: 'Duration of one batched kernel route write (rtnetlink)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.kernelRepairs = new Counter({
      name: 'bird_kernel_repairs_total',
      help: 'Kernel route lines rewritten by the drift read-back',
      registers,
    });

    // ---- per peer, read at scrape time ----
    // Every collector of one scrape sees the same figures: read once, dropped after the tick.
    let figures: PeerFigures[] | undefined;
    const now = (): PeerFigures[] => {
      if (!figures) {
        figures = peers();
        setImmediate(() => {
          figures = undefined;
        });
      }
      return figures;
    };
    type Put = (labels: Labels, value: number) => void;
    type Values = (p: PeerFigures, put: Put) => void;
    /** A counter or gauge whose values are the figures' at the scrape. */
    const scraped = (
      kind: 'counter' | 'gauge',
      name: string,
      help: string,
      labelNames: string[],
      values: Values,
    ) => {
      if (kind === 'counter')
        new Counter({
          name,
          help,
          labelNames,
          registers,
          collect() {
            this.reset();
            for (const p of now()) values(p, (labels, v) => this.inc(labels, v));
          },
        });
      else
        new Gauge({
          name,
          help,
          labelNames,
          registers,
          collect() {
            this.reset();
            for (const p of now()) values(p, (labels, v) => this.set(labels, v));
          },
        });
    };

    // GoBGP's message counters (pkg/metrics): per peer, every message kind; withdrawn
    // prefixes also per route family.
    for (const dir of ['received', 'sent'] as const) {
      for (const kind of MESSAGE_KINDS)
        scraped(
          'counter',
          `bgp_${dir}_${kind}_total`,
          `Number of ${dir} BGP ${kind.toUpperCase()} messages`,
          ['peer'],
          (p, put) => put({ peer: p.address }, p[dir][kind]),
        );
      scraped('counter', `bgp_${dir}_message_total`, `Number of ${dir} BGP messages`, ['peer'], (p, put) =>
        put(
          { peer: p.address },
          MESSAGE_KINDS.reduce((n, k) => n + p[dir][k], 0),
        ),
      );
      scraped(
        'counter',
        `bgp_${dir}_withdraw_prefix_total`,
        `Number of prefixes withdrawn in ${dir} UPDATEs, per route family`,
        ['peer', 'route_family'],
        (p, put) => {
          for (const f of FAMILIES)
            if (p.families[f].enabled)
              put(
                { peer: p.address, route_family: ROUTE_FAMILY[f] },
                dir === 'received' ? p.families[f].importWithdraws : p.families[f].exportWithdraws,
              );
        },
      );
    }
    scraped(
      'gauge',
      'bgp_routes_accepted',
      'Number of routes accepted from the peer (its Adj-RIB-In after import policy), per route family',
      ['peer', 'route_family'],
      (p, put) => {
        for (const f of FAMILIES)
          if (p.families[f].enabled)
            put({ peer: p.address, route_family: ROUTE_FAMILY[f] }, p.families[f].imported);
      },
    );

    // bird_exporter's names for BIRD's BGP protocols: one series per protocol and channel.
    const protocol = (
      name: string,
      help: string,
      value: (p: PeerFigures, f: PeerFigures['families'][FamilyName]) => number,
    ) =>
      scraped('gauge', name, help, ['name', 'proto', 'ip_version'], (p, put) => {
        for (const fam of FAMILIES) {
          const f = p.families[fam];
          if (f.enabled) put({ name: p.name, proto: 'BGP', ip_version: IP_VERSION[fam] }, value(p, f));
        }
      });
    const perProtocol: [
      string,
      string,
      (p: PeerFigures, f: PeerFigures['families'][FamilyName]) => number,
    ][] = [
      ['up', 'Protocol is up', (p) => (p.established ? 1 : 0)],
      ['uptime', 'Uptime of the protocol in seconds', (p) => p.uptimeSeconds],
      ['prefix_import_count', 'Number of imported routes', (_p, f) => f.imported],
      ['prefix_export_count', 'Number of exported routes', (_p, f) => f.exported],
      ['changes_update_import_receive_count', 'Number of received updates', (_p, f) => f.importUpdates],
      [
        'changes_update_import_filter_count',
        'Number of incoming updates being filtered',
        (_p, f) => f.importFiltered,
      ],
      [
        'changes_update_import_accept_count',
        'Number of incoming updates being accepted',
        (_p, f) => f.importUpdates - f.importFiltered,
      ],
      ['changes_withdraw_import_receive_count', 'Number of received withdraws', (_p, f) => f.importWithdraws],
      [
        'changes_update_export_accept_count',
        'Number of outgoing updates being accepted',
        (_p, f) => f.exportUpdates,
      ],
      [
        'changes_withdraw_export_accept_count',
        'Number of outgoing withdraws being accepted',
        (_p, f) => f.exportWithdraws,
      ],
    ];
    for (const [name, help, value] of perProtocol) protocol(`bird_protocol_${name}`, help, value);
  }
}
