import { Gauge, type Registry } from 'prom-client';

/** What the policy gauges are computed from (the policy calculator and the ipset driver). */
export interface PolicyCounts {
  activePolicies: number;
  activeSelectors: number;
  clusterPolicies: number;
  clusterProfiles: number;
  /** Every ipset on the host, felix's and others'. */
  ipsets: number;
}

/**
 * felix's policy gauges, named and described as Calico's felix names them: policies and
 * selectors active on this host, policies and profiles in the cluster, ipsets on the host.
 */
export class PolicyMetrics {
  private readonly activeLocalPolicies: Gauge;
  private readonly activeLocalSelectors: Gauge;
  private readonly clusterNumPolicies: Gauge;
  private readonly clusterNumProfiles: Gauge;
  private readonly ipsetsTotal: Gauge;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
    this.activeLocalPolicies = gauge(
      'felix_active_local_policies',
      'Number of active policies on this host.',
    );
    this.activeLocalSelectors = gauge(
      'felix_active_local_selectors',
      'Number of active selectors on this host.',
    );
    this.clusterNumPolicies = gauge('felix_cluster_num_policies', 'Total number of policies in the cluster.');
    this.clusterNumProfiles = gauge('felix_cluster_num_profiles', 'Total number of profiles in the cluster.');
    this.ipsetsTotal = gauge('felix_ipsets_total', 'Total number of active IP sets.');
  }

  set(c: PolicyCounts): void {
    this.activeLocalPolicies.set(c.activePolicies);
    this.activeLocalSelectors.set(c.activeSelectors);
    this.clusterNumPolicies.set(c.clusterPolicies);
    this.clusterNumProfiles.set(c.clusterProfiles);
    this.ipsetsTotal.set(c.ipsets);
  }
}
