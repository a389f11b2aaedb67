/**
 * The cluster: one libp2p node per process (`transport.ts`), MessagePack frame links
 * (`wire.ts`, `link.ts`), remote actor refs over them (`remote_ref.ts`, `remote_client.ts`,
 * `remote_host.ts`, `remote_peer_pool.ts`), the consistent-hash ring of microshard owners
 * (`ring.ts`), the ClusterCoordinator that changes the cluster view only on messages
 * (`coordinator.ts`, `view.ts`), the node service peers call (`node_service.ts`), the
 * cluster's executor (`cluster_executor.ts`), and joining a cluster (`start.ts`).
 *
 * @module
 */

export { NodeUnavailableError } from "./errors.ts";
export { FrameDecoder, FrameTooLargeError, WireCodec } from "./wire.ts";
export { FrameLink, LinkClosedError } from "./link.ts";
export { ACTOR_PROTOCOL } from "./remote_protocol.ts";
export { RemoteClient } from "./remote_client.ts";
export { type Exposed, type ExposedActors, serveLink } from "./remote_host.ts";
export { RemoteActorRef } from "./remote_ref.ts";
export { RemotePeerPool } from "./remote_peer_pool.ts";
export { CLUSTER_MICROSHARDS, HashRing, microshardOf, VIRTUAL_NODES } from "./ring.ts";
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
