// netpol.js — answers "may this pod reach that one on this port?" from NetworkPolicy objects, as
// the Kubernetes API defines them (podSelector, namespaceSelector, ipBlock, ports, policyTypes),
// so that the deploy tests can compare what the policies allow with the flows the services
// declare. A pod is { labels, ns, nsLabels, ports } with ns 'self' for the rendered namespace;
// { external: true } is an address outside the cluster.
'use strict';

function matches (selector, labels) {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels || {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions || []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case 'In': if (!has || !e.values.includes(v)) return false; break;
      case 'NotIn': if (has && e.values.includes(v)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

function types (policy) {
  const spec = policy.spec || {};
  if (spec.policyTypes) return spec.policyTypes;
  return spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

// A NetworkPolicyPeer of a policy in the rendered namespace.
function peerMatches (peer, pod) {
  if (pod.external) return !!peer.ipBlock;
  if (peer.ipBlock) return false;
  if (peer.namespaceSelector) {
    const nsOk = matches(peer.namespaceSelector, pod.nsLabels || {});
    return nsOk && (!peer.podSelector || matches(peer.podSelector, pod.labels || {}));
  }
  return pod.ns === 'self' && matches(peer.podSelector, pod.labels || {});
}

function portMatches (ports, port, protocol, dst) {
  if (!ports || !ports.length) return true;
  return ports.some((p) => {
    if ((p.protocol || 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'string' ? ((dst && dst.ports) || {})[p.port] : p.port;
    return n !== undefined && port >= n && port <= (p.endPort || n);
  });
}

// Whether policies let `src` send to `dst` on port/protocol: the source's egress (when it is a
// pod of the namespace) and the destination's ingress (likewise) must both allow it.
function allowed (policies, src, dst, port, protocol = 'TCP') {
  const side = (pod, dir, rulesOf, peersOf, other) => {
    if (pod.external || pod.ns !== 'self') return true;
    const selecting = policies.filter((p) => types(p).includes(dir) && matches(p.spec.podSelector, pod.labels));
    if (!selecting.length) return true;
    return selecting.some((p) => (rulesOf(p) || []).some((r) => {
      const peers = peersOf(r);
      return (!peers || !peers.length || peers.some((x) => peerMatches(x, other))) &&
             portMatches(r.ports, port, protocol, dst);
    }));
  };
  return side(src, 'Egress', (p) => p.spec.egress, (r) => r.to, dst) &&
         side(dst, 'Ingress', (p) => p.spec.ingress, (r) => r.from, src);
}

// Whether a pod is isolated in a direction (some policy selects it for it): default deny.
function isolated (policies, pod, dir) {
  return policies.some((p) => types(p).includes(dir) && matches(p.spec.podSelector, pod.labels));
}

module.exports = { allowed, isolated, matches };
