import { Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';
import { type Rule, rules } from './rule.js';

/**
 * A profile: labels its endpoints inherit and rules that decide when no policy does (Calico's
 * Profile). The Kubernetes integration keeps one per namespace, `kns.<namespace>`, whose
 * labelsToApply are the namespace's labels, and one per service account,
 * `ksa.<namespace>.<serviceaccount>`; a WorkloadEndpoint names its profiles in `spec.profiles`.
 */
export interface ProfileSpec {
  /** Labels every endpoint with this profile carries, for selectors (namespaceSelector). */
  labelsToApply: Record<string, string>;
  ingress: Rule[];
  egress: Rule[];
}
export type Profile = Resource<'Profile', ProfileSpec>;

/** The profile of a Kubernetes namespace. */
export const namespaceProfileName = (namespace: string): string => `kns.${namespace}`;
/** The profile of a Kubernetes service account. */
export const serviceAccountProfileName = (namespace: string, serviceAccount: string): string =>
  `ksa.${namespace}.${serviceAccount}`;

export function validateProfile(raw: unknown): Profile {
  const f = new Fields('Profile', raw);
  const metadata = checkEnvelope(f, 'Profile', false);
  f.object('spec');
  const spec = compact<ProfileSpec>({
    labelsToApply: { ...(f.stringMap('spec.labelsToApply') ?? {}) },
    ingress: rules(f, 'spec.ingress'),
    egress: rules(f, 'spec.egress'),
  });
  f.done();
  return { kind: 'Profile', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
