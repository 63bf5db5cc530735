/**
 * The standard layout of the conformance cases (FORMAT.md section 1): namespaces x, y, z with
 * pods a, b, c each, their labels, and the named container ports every pod has.
 */
export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
/** "x/a" … "z/c", in matrix order. */
export const PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const namespaceLabels = (ns: string): Record<string, string> => ({ ns, [NAMESPACE_NAME_LABEL]: ns });
export const podLabels = (pod: string): Record<string, string> => ({ pod: pod.split('/')[1]! });

export const SERVED_PORTS = [80, 81] as const;

/** serve-80-tcp … serve-81-sctp. */
export const NAMED_PORTS = SERVED_PORTS.flatMap((port) =>
  (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({
    name: `serve-${port}-${protocol.toLowerCase()}`,
    protocol,
    port,
  })),
);

export function isPod(ref: string): boolean {
  return PODS.includes(ref);
}
