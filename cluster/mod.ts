/**
 * The cluster: one libp2p node per process (`transport.ts`), MessagePack frame links
 * (`wire.ts`, `link.ts`), remote actor refs over them (`remote_ref.ts`, `remote_client.ts`,
 * `remote_host.ts`, `remote_peer_pool.ts`), the consistent-hash ring of slot owners
 * (`ring.ts`), the ClusterCoordinator that changes the cluster view only on messages
 * (`coordinator.ts`, `view.ts`), the node service peers call (`node_service.ts`), the
 * cluster's executor (`cluster_executor.ts`), anti-entropy between replicas (`anti_entropy.ts`,
 * `slot_digest.ts`), the slots a node rebuilds after losing its disk (`rebuilding.ts`), and
 * joining a cluster (`start.ts`).
 *
 * @module
 */

export { MalformedFrameError, NodeUnavailableError, PeerRefusedError } from "./errors.ts";
export {
  DEFAULT_MAX_FRAME_BYTES,
  FrameBudgetError,
  FrameDecoder,
  FrameTooLargeError,
  WireCodec,
} from "./wire.ts";
export {
  BufferBudget,
  DEFAULT_MAX_CONNECTION_PENDING_BYTES,
  DEFAULT_MAX_NODE_PENDING_BYTES,
} from "./buffer_budget.ts";
export { parseAnswerFrame, parseHello, parseRequestFrame } from "./frame_schema.ts";
export { type TrustCounters, trustCounters } from "./trust_counters.ts";
export { FrameLink, type FrameLinkOptions, LinkClosedError } from "./link.ts";
export { exposeActors, PEER_COORDINATOR_MESSAGES } from "./exposure.ts";
export { FailureDetector, type MemberState } from "./failure_detector.ts";
export { NodeBreaker } from "./node_breaker.ts";
export { SeedTracker } from "./seed_tracker.ts";
export { joiningGate } from "./joining_gate.ts";
export { ACTOR_PROTOCOL } from "./remote_protocol.ts";
export { RemoteClient } from "./remote_client.ts";
export { type Exposed, type ExposedActors, serveLink } from "./remote_host.ts";
export { RemoteActorRef } from "./remote_ref.ts";
export { RemotePeerPool } from "./remote_peer_pool.ts";
export { CLUSTER_SLOTS, HashRing, slotOf, VIRTUAL_NODES } from "./ring.ts";
export {
  ClusterTransport,
  DHT_PROTOCOL,
  loadClusterKey,
  swarmKey,
  type TransportEvent,
} from "./transport.ts";
export {
  type ClusterHealth,
  type CoordinatorMsg,
  type CoordinatorReplies,
  createCoordinator,
} from "./coordinator.ts";
export type { ClusterView, Hello, MemberView, NodeInfo, SchemaInfo } from "./view.ts";
export { createNodeService, NODE_SERVICE, type NodeServiceMsg } from "./node_service.ts";
export {
  ClusterExecutor,
  type ClusterExecutorSettings,
  decideInView,
  soloView,
} from "./cluster_executor.ts";
export { clusterWiring, COORDINATOR, startCluster, type StartedCluster } from "./start.ts";
export { within } from "./within.ts";
export {
  nextEntry,
  readSlotFile,
  type SlotEntry,
  SlotTable,
  type WireEntry,
  writeSlotFile,
} from "./slot_table.ts";
export {
  DEFAULT_MAX_SLOTS_MOVING,
  type SlotMoveCounters,
  type SlotMoveMsg,
  SlotMoves,
  type SlotMovesDeps,
} from "./slot_moves.ts";
export { type HintCounters, HintStore, type SendCopies } from "./hints.ts";
export {
  AntiEntropy,
  type AntiEntropyCounters,
  type AntiEntropyDeps,
  type AntiEntropyStatus,
  DEFAULT_ANTI_ENTROPY_INTERVAL_MS,
} from "./anti_entropy.ts";
export { RebuildingSlots } from "./rebuilding.ts";
export {
  type EntropyDiffMsg,
  type EntropyDiffReply,
  type EntropyDigestMsg,
  type EntropyDigestReply,
  MalformedEntropyError,
  type WireDigestEntry,
} from "./anti_entropy_schema.ts";
export {
  bucketOf,
  compareEntries,
  differingBuckets,
  DIGEST_BUCKETS,
  type DigestEntry,
  slotDigest,
} from "./slot_digest.ts";
