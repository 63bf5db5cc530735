export {
  type Decision,
  type DirectionExplanation,
  type EndpointInfo,
  type Explanation,
  evaluateDirection,
  explain,
  type PacketEndInfo,
  type RuleHit,
  type Verdict,
} from './evaluate.js';
export {
  convertKubernetesNetworkPolicy,
  KUBERNETES_POLICY_ORDER,
  kubernetesPolicyName,
  simplifyPorts,
} from './kubernetes/convert.js';
export { labelSelectorToSelector } from './kubernetes/selector.js';
export * from './kubernetes/types.js';
export { validateKubernetesNetworkPolicy } from './kubernetes/validate.js';
export * from './labels.js';
export { type PacketEnd, ruleMatches } from './match.js';
export {
  inNets,
  type ModelEndpoint,
  PolicyModel,
  type PolicyResources,
  type ProfileRules,
  profileRules,
} from './model.js';
export {
  type NormalizedPolicy,
  type NormalizedRule,
  type NormalizedSide,
  normalizePolicy,
  normalizeRule,
  type PolicyRef,
  policyRefText,
} from './normalize.js';
export { activePolicies, comparePolicies } from './order.js';
export { hasPorts, isIcmp, makePacket, type Packet, type PacketSpec, protocolName } from './packet.js';
export { renderExplanationJson, renderExplanationText } from './render.js';
export { type ExplainRequest, explainRequest } from './request.js';
export { SelectorCache } from './selector-cache.js';
export {
  andSelectors,
  canonicalize,
  canonicalSelector,
  prefixSelector,
  printSelector,
  selectorId,
} from './selectors.js';
