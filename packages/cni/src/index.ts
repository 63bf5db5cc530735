// What other packages use of the plugin without running it: the naming contract and the
// pod → WorkloadEndpoint conversion (tricolor-kube-controllers writes the same fields).

export * from './k8s/pod.js';
export { endpointName, handleId, hostInterfaceName, workloadOf } from './names.js';
