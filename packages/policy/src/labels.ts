import type { Labels, Profile, WorkloadEndpoint } from '@tricolor/datastore';

/** The labels the CNI plugin writes on every workload endpoint. */
export const NAMESPACE_LABEL = 'tricolor.dev/namespace';
export const ORCHESTRATOR_LABEL = 'tricolor.dev/orchestrator';
/** The name of the namespace (service account) a profile stands for, under its prefix. */
export const NAME_LABEL = 'tricolor.dev/name';
/** Namespace labels as an endpoint carries them (Calico's `pcns.` prefix). */
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
/** Service account labels as an endpoint carries them (Calico's `pcsa.` prefix). */
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';

export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';

/** The prefix a profile's labelsToApply get on its endpoints: pcns. for kns.*, pcsa. for ksa.*, none otherwise. */
export function profileLabelPrefix(profileName: string): string {
  if (profileName.startsWith(NAMESPACE_PROFILE_PREFIX)) return NAMESPACE_LABEL_PREFIX;
  if (profileName.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX)) return SERVICE_ACCOUNT_LABEL_PREFIX;
  return '';
}

/**
 * The labels selectors see on an endpoint, as in Calico: what its profiles apply, then its
 * own labels (which win). The namespace profile's labels come under `pcns.` and the service
 * account profile's under `pcsa.`, so one label index evaluates a policy's selector, a rule's
 * namespaceSelector (rewritten to `pcns.` labels) and serviceAccounts alike. The namespace's
 * and service account's names are always there (`pcns.tricolor.dev/name`,
 * `pcsa.tricolor.dev/name`), also before their profiles exist.
 */
export function effectiveLabels(
  endpoint: Pick<WorkloadEndpoint, 'metadata' | 'spec'>,
  profiles: ReadonlyMap<string, Profile>,
): Labels {
  const out: Record<string, string> = {};
  for (const name of [...endpoint.spec.profiles].reverse()) {
    const profile = profiles.get(name);
    if (!profile) continue;
    const prefix = profileLabelPrefix(name);
    for (const [k, v] of Object.entries(profile.spec.labelsToApply)) out[prefix + k] = v;
  }
  const namespace = endpoint.metadata.namespace;
  if (namespace) out[NAMESPACE_LABEL_PREFIX + NAME_LABEL] = namespace;
  if (endpoint.spec.serviceAccountName)
    out[SERVICE_ACCOUNT_LABEL_PREFIX + NAME_LABEL] = endpoint.spec.serviceAccountName;
  Object.assign(out, endpoint.metadata.labels ?? {});
  return out;
}
