/**
 * Who a hello may admit: only its sender, over its own connection. A hello is refused when it
 * names another cluster, claims a peer id other than the connection's (Noise-authenticated)
 * one, claims this node's id or a removed node's, or breaks the node id ↔ peer id binding made
 * at the first admission. The one rule of the threat model's "admitted member".
 *
 * @module
 */

import type { NodeInfo } from "./view.ts";

/** What the rule needs to know of the coordinator's state. */
export interface AdmissionState {
  readonly self: NodeInfo;
  /** Whether `node` was removed from the cluster (final). */
  isRemoved(node: string): boolean;
  /** The peer id `node` is bound to, if it was admitted before. */
  peerOf(node: string): string | undefined;
  /** The node id `peer` is bound to, if it was admitted before. */
  nodeOf(peer: string): string | undefined;
}

/** Why the hello of `info` over a connection from `peer` is refused, or undefined. */
export function admissionRefusal(
  info: NodeInfo,
  peer: string,
  state: AdmissionState,
): string | undefined {
  const self = state.self;
  if (info.clusterName !== self.clusterName) {
    return `it is in cluster "${info.clusterName}", not "${self.clusterName}"`;
  }
  if (info.peerId !== peer) {
    return `it claims peer id ${info.peerId} over a connection from ${peer}`;
  }
  if (info.nodeId === self.nodeId) return "it claims this node's id";
  if (state.isRemoved(info.nodeId)) {
    return `node ${info.nodeId} was removed from the cluster (a replacement joins under a new id)`;
  }
  const bound = state.peerOf(info.nodeId);
  if (bound !== undefined && bound !== peer) {
    return `node id ${info.nodeId} is bound to peer ${bound}`;
  }
  const node = state.nodeOf(peer);
  if (node !== undefined && node !== info.nodeId) return `peer ${peer} is bound to node ${node}`;
  return undefined;
}
