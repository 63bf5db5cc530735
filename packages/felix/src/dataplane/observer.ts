import type { Table } from '../calc/iptables/rules.js';

/**
 * What the drivers report as they run the tools, for felix's metrics (`FelixMetrics`
 * implements it; Calico's `felix_iptables_*`, `felix_ipset_*`, `felix_route_table_*`).
 * The drivers only report; they do not know about Prometheus.
 */
export interface DataplaneObserver {
  /** One iptables-save of a family, and whether it succeeded. */
  iptablesSave(family: 4 | 6, ok: boolean): void;
  /** One iptables-restore of a family: the lines it carried per table, and whether it succeeded. */
  iptablesRestore(family: 4 | 6, linesPerTable: ReadonlyMap<Table, number>, ok: boolean): void;
  /** One ipset command (`ipset save`, or an `ipset restore` of `lines` operations), and whether it succeeded. */
  ipset(lines: number, ok: boolean): void;
  /** A complete read of the routes felix manages (a resync), in seconds. */
  routesRead(seconds: number): void;
}

/** Reports nowhere (tests and benches that do not look at metrics). */
export const NO_OBSERVER: DataplaneObserver = {
  iptablesSave: () => undefined,
  iptablesRestore: () => undefined,
  ipset: () => undefined,
  routesRead: () => undefined,
};
