/**
 * Joining a cluster: starts the libp2p transport, exposes this node's service and
 * coordinator to peers, and spawns the ClusterCoordinator, which dials the seeds and feeds
 * the router a new view on every change.
 *
 * @module
 */

import type { ActorSystem } from "../actors/system.ts";
import type { ActorRef } from "../actors/types.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import {
  type ClusterHealth,
  type CoordinatorMsg,
  type CoordinatorReplies,
  createCoordinator,
  type LeaveResult,
  type NodeListing,
  type RemovalResult,
} from "./coordinator.ts";
import {
  createNodeService,
  NODE_SERVICE,
  type NodeServiceMsg,
  type NodeServiceReplies,
  type ServiceRouting,
} from "./node_service.ts";
import { readSlotFile } from "./slot_table.ts";
import { COORDINATOR, exposeActors } from "./exposure.ts";
import { type Exposed, serveLink } from "./remote_host.ts";
import { RemoteClient } from "./remote_client.ts";
import { RemotePeerPool } from "./remote_peer_pool.ts";
import { ClusterTransport, loadClusterKey, type TransportEvent } from "./transport.ts";
import type { KeyStore } from "../security/key_store.ts";
import { readClusterFile } from "./cluster_file.ts";
import { type TrustCounters, trustCounters } from "./trust_counters.ts";
import type { ClusterView, Hello, NodeInfo } from "./view.ts";
import { WireCodec } from "./wire.ts";
import { within } from "./within.ts";
import type { IndexDrops } from "./index_drops.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import { MembershipRefusedError, NodeUnavailableError, UnknownNodeError } from "./errors.ts";

export { COORDINATOR } from "./exposure.ts";

/** How long a hello may take, in ms. */
export const HELLO_TIMEOUT_MS = 5_000;

/** Options of {@linkcode startCluster}. */
export interface ClusterStartOptions {
  readonly nodeId: string;
  readonly nodeName: string;
  /** `node.zone`: the node's availability zone; `""` for none. */
  readonly zone?: string;
  readonly clusterName: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly seeds: readonly string[];
  readonly psk: string;
  /** This node's HTTP address, as peers and operators see it. */
  readonly http: string;
  /** When the boot check compares the kept member list with the peers that answered, in ms. */
  readonly bootCheckAfterMs: number;
  /** How often coordinators send each other heartbeats, in ms. */
  readonly heartbeatIntervalMs: number;
  /** Silence after which a member is suspect, in ms. */
  readonly suspectAfterMs: number;
  /** Silence after which a member is down, in ms. */
  readonly downAfterMs: number;
  /** Slots one node moves at once (`network.cluster.max_slots_moving`); 4 by default. */
  readonly maxSlotsMoving?: number;
  /** Owners per slot (`network.cluster.replication_factor`); 1 by default. */
  readonly replicationFactor?: number;
  /** A moved slot's old copy is kept this long after every member knows the flip, in ms. */
  readonly dropGraceMs?: number;
  /** The index drops this node knows and its indexes' births (`index_drops.ts`). */
  readonly indexDrops?: IndexDrops;
  /** The node's API keys, which other nodes' changes and snapshots are applied to. */
  readonly keys?: KeyStore;
  readonly log: {
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
}

/** What the node needs before the cluster starts: the pool the router's remote refs come from. */
export interface ClusterWiring {
  readonly codec: WireCodec;
  readonly pool: RemotePeerPool;
  /** Node ids → libp2p peer ids, kept by the coordinator. */
  readonly peers: Map<string, string>;
  /** What peers sent that this node refused. */
  readonly counters: TrustCounters;
  /** True until the coordinator's view says this node has joined (data requests wait). */
  joining: boolean;
  /** Set by {@linkcode startCluster}. */
  transport?: ClusterTransport;
}

/** Builds the pool before the router exists; the transport is attached when it starts. */
export function clusterWiring(): ClusterWiring {
  const peers = new Map<string, string>();
  const wiring: ClusterWiring = {
    codec: new WireCodec(),
    peers,
    counters: trustCounters(),
    joining: true,
    pool: new RemotePeerPool((node, onFrame) => {
      const peer = peers.get(node);
      if (wiring.transport === undefined || peer === undefined) {
        return Promise.reject(new Error(`no address for node ${node}`));
      }
      return wiring.transport.openLink(peer, onFrame);
    }),
  };
  return wiring;
}

/** A node in a cluster. */
export interface StartedCluster {
  readonly transport: ClusterTransport;
  readonly coordinator: ActorRef<CoordinatorMsg, CoordinatorReplies>;
  readonly info: NodeInfo;
  health(): Promise<ClusterHealth>;
  /** Asks another member to leave (its own coordinator decides). */
  leaveThrough(nodeId: string): Promise<LeaveResult>;
  /** Leaves the cluster: closes the links and stops libp2p. */
  stop(): Promise<void>;
}

/** Joins (or forms) the cluster. */
export async function startCluster(
  system: ActorSystem,
  node: NodeOrchestrator,
  executor: {
    setView(view: ClusterView): void;
    streamSlot?(slot: number, to: string): Promise<number>;
    abortMove?(slot: number): void;
    dropSlot?(slot: number): Promise<void>;
    leaveSlot?(slot: number): void;
    serveWrite?: ServiceRouting["serveWrite"];
    serveGet?: ServiceRouting["serveGet"];
    servePages?: ServiceRouting["servePages"];
    serveStamped?: ServiceRouting["serveStamped"];
    noteCopies?: ServiceRouting["noteCopies"];
    antiEntropy?: ServiceRouting["antiEntropy"];
  },
  wiring: ClusterWiring,
  options: ClusterStartOptions,
): Promise<StartedCluster> {
  const drops = options.indexDrops;
  const routing = (): ServiceRouting | undefined => {
    const { serveWrite, serveGet, servePages } = executor;
    const coordinator = spawned.coordinator;
    if (
      serveWrite === undefined || serveGet === undefined || servePages === undefined ||
      coordinator === undefined
    ) {
      return undefined;
    }
    return {
      serveWrite: (commands, hops) => serveWrite.call(executor, commands, hops),
      serveGet: (read, hops) => serveGet.call(executor, read, hops),
      servePages: (query, assignment) => servePages.call(executor, query, assignment),
      ...(executor.serveStamped === undefined
        ? {}
        : { serveStamped: (read) => executor.serveStamped!(read) }),
      noteCopies: (commands) => executor.noteCopies?.(commands),
      leave: () => coordinator.ask({ type: "leave" }),
      ...(executor.antiEntropy === undefined ? {} : { antiEntropy: executor.antiEntropy }),
    };
  };
  const service = system.spawn<NodeServiceMsg, NodeServiceReplies>(
    () =>
      createNodeService(node, {
        routing,
        ...(drops === undefined ? {} : { indexDrops: drops }),
        ...(options.keys === undefined ? {} : { keys: options.keys }),
      }),
    { name: NODE_SERVICE, mailboxCapacity: 16_384, supervision: { policy: "permanent" } },
  );
  // Set right after the transport starts; events and requests before that wait or are refused.
  const spawned: { coordinator?: ActorRef<CoordinatorMsg, CoordinatorReplies> } = {};
  const early: TransportEvent[] = [];
  const tellCoordinator = (msg: CoordinatorMsg) => {
    try {
      spawned.coordinator?.tell(msg);
    } catch (error) {
      options.log.warn(`the coordinator missed a message: ${(error as Error).message}`);
    }
  };
  const exposed = exposeActors({
    serviceName: NODE_SERVICE,
    service: { ref: service as unknown as Exposed["ref"], mailboxCapacity: 16_384 },
    coordinator: () =>
      spawned.coordinator === undefined
        ? undefined
        : { ref: spawned.coordinator as unknown as Exposed["ref"], mailboxCapacity: 4_096 },
    isAdmitted: (peer) => [...wiring.peers.values()].includes(peer),
  });
  const transport = await ClusterTransport.start({
    host: options.host,
    port: options.port,
    privateKey: await loadClusterKey(options.dataDir),
    ...(options.psk === "" ? {} : { psk: options.psk }),
    codec: wiring.codec,
    onEvent: (event) => {
      if (spawned.coordinator === undefined) early.push(event);
      else tellCoordinator({ type: "transport", event });
    },
    onInboundLink: (link, peer) => serveLink(link, exposed, { peer, counters: wiring.counters }),
    counters: wiring.counters,
  });
  wiring.transport = transport;
  const info: NodeInfo = {
    nodeId: options.nodeId,
    name: options.nodeName,
    clusterName: options.clusterName,
    peerId: transport.peerId,
    addrs: transport.multiaddrs,
    http: options.http,
    shardCount: node.shardCount,
    ...(options.zone === undefined || options.zone === "" ? {} : { zone: options.zone }),
  };
  const { members: snapshot, records: kept } = await readClusterFile(options.dataDir);
  const keptSlots = await readSlotFile(options.dataDir);
  const coordinator = system.spawn<CoordinatorMsg, CoordinatorReplies>(
    () =>
      createCoordinator(
        {
          self: info,
          dataDir: options.dataDir,
          seeds: options.seeds,
          peers: wiring.peers,
          sendHello: (peer, hello) => sendHello(transport, peer, hello),
          dial: (address) => transport.dial(address),
          keepAlive: (peer, addrs) => transport.keepAlive(peer, addrs),
          isConnected: (peer) => transport.isConnected(peer),
          pool: wiring.pool,
          // Each with its birth: a peer that knows the index was dropped after it refuses it.
          schemas: () =>
            node.schemaList().map((schema) => ({
              ...schema,
              ...(drops === undefined ? {} : { bornAtMs: drops.bornAt(schema.index) }),
            })),
          ...(drops === undefined ? {} : { indexDrops: () => drops.list() }),
          counters: wiring.counters,
          adoptSchemas: async (schemas, dropped) => {
            const held = node.schemaList().map((schema) => schema.index);
            for (const index of await drops?.merge(dropped, held) ?? []) {
              options.log.info(`index "${index}" was dropped while this node was away: dropped`);
              await node.dropIndex(index).catch((error) => {
                if (!(error instanceof IndexNotFoundError)) throw error;
              });
            }
            for (const schema of schemas) {
              // Born before a drop of its name: the dropped index, not adopted again.
              if (drops?.isDropped(schema.index, schema.bornAtMs ?? 0) === true) continue;
              try {
                await node.configure(schema.index, {
                  fields: [...schema.fields],
                  engine: schema.engine,
                });
                // The birth it came with; one of unknown birth is born here now.
                if (schema.bornAtMs === undefined || schema.bornAtMs === 0) {
                  drops?.birthOf(schema.index);
                } else await drops?.adopted(schema.index, schema.bornAtMs);
              } catch (error) {
                options.log.warn(
                  `cannot adopt the schema of index "${schema.index}": ${(error as Error).message}`,
                );
              }
            }
          },
          onView: (view) => {
            wiring.joining = view.joining ?? false;
            executor.setView(view);
          },
          tellSelf: (msg) => tellCoordinator(msg),
          bootCheckAfterMs: options.bootCheckAfterMs,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          suspectAfterMs: options.suspectAfterMs,
          downAfterMs: options.downAfterMs,
          sendHeartbeat: async (node, records, slots) => {
            const peer = await wiring.pool.ref<CoordinatorMsg, CoordinatorReplies>(
              node,
              COORDINATOR,
            );
            // The host stamps the heartbeat with this connection's peer id.
            return await peer.ask({ type: "heartbeat", records, slots } as CoordinatorMsg, {
              timeoutMs: options.suspectAfterMs,
            });
          },
          ...(executor.streamSlot === undefined ? {} : {
            moveSlot: (slot: number, to: string) => executor.streamSlot!(slot, to),
            abortMove: (slot: number) => executor.abortMove?.(slot),
            dropSlot: (slot: number) => executor.dropSlot?.(slot) ?? Promise.resolve(),
          }),
          holdSlots: (slots) => {
            node.holdSlots(slots).catch((error) =>
              options.log.warn(`cannot hold the moving slots' tombstones: ${error}`)
            );
          },
          replicationFactor: options.replicationFactor ?? 1,
          leaveSlot: (slot: number) => executor.leaveSlot?.(slot),
          ...(options.maxSlotsMoving === undefined
            ? {}
            : { maxSlotsMoving: options.maxSlotsMoving }),
          dropGraceMs: options.dropGraceMs ?? 2_000,
          log: options.log,
        },
        snapshot,
        kept,
        keptSlots,
      ),
    { name: COORDINATOR, mailboxCapacity: 4_096, supervision: { policy: "permanent" } },
  );
  spawned.coordinator = coordinator;
  for (const event of early.splice(0)) tellCoordinator({ type: "transport", event });
  const ref = coordinator;
  return {
    transport,
    coordinator: ref,
    info,
    health: () => ref.ask({ type: "health" }),
    leaveThrough: async (nodeId) => {
      const peer = await wiring.pool.ref<NodeServiceMsg, NodeServiceReplies>(nodeId, NODE_SERVICE);
      return await peer.ask({ type: "leave" }, { timeoutMs: HELLO_TIMEOUT_MS });
    },
    async stop() {
      await wiring.pool.close();
      await transport.stop();
    },
  };
}

/** Asks a peer's coordinator `hello` over a link of its own, closed after the answer. */
async function sendHello(
  transport: ClusterTransport,
  peer: string,
  hello: Hello,
): Promise<Hello> {
  const client = await RemoteClient.open(
    peer,
    (onFrame) => transport.openLink(peer, onFrame, HELLO_TIMEOUT_MS),
  );
  try {
    const answer = await within(
      client.request({
        k: "ask",
        name: COORDINATOR,
        // The host stamps the message with this connection's peer id.
        msg: { type: "hello", hello } satisfies Omit<
          Extract<CoordinatorMsg, { type: "hello" }>,
          "peer"
        >,
        timeoutMs: HELLO_TIMEOUT_MS,
      }),
      HELLO_TIMEOUT_MS,
      () => new Error(`no answer to hello within ${HELLO_TIMEOUT_MS} ms`),
    );
    return answer as Hello;
  } finally {
    await client.close();
  }
}

/**
 * The membership routes' view of a cluster that may not have started yet (the HTTP server
 * starts first): each call asks the coordinator, or answers 503 until it runs.
 */
export function clusterAdmin(started: () => StartedCluster | undefined): {
  nodes(): Promise<NodeListing>;
  remove(nodeId: string): Promise<RemovalResult>;
  leave(nodeId: string): Promise<LeaveResult>;
} {
  const coordinator = () => {
    const cluster = started();
    if (cluster === undefined) {
      throw new NodeUnavailableError("this node", "the cluster is still starting");
    }
    return cluster.coordinator;
  };
  return {
    nodes: () => coordinator().ask({ type: "nodes" }),
    remove: (nodeId) => coordinator().ask({ type: "remove", nodeId }),
    leave: async (nodeId) => {
      const cluster = started();
      if (cluster === undefined) {
        throw new NodeUnavailableError("this node", "the cluster is still starting");
      }
      if (nodeId === cluster.info.nodeId) return await cluster.coordinator.ask({ type: "leave" });
      const listing = await cluster.coordinator.ask({ type: "nodes" });
      const entry = listing.nodes.find((n) => n.node_id === nodeId);
      if (entry === undefined) throw new UnknownNodeError(nodeId);
      if (entry.state === "left") return { node_id: nodeId, state: "left", slots: 0 };
      if (entry.state === "removed") {
        throw new MembershipRefusedError(`node ${nodeId} was removed: it cannot leave`);
      }
      if (entry.health !== "up") {
        throw new MembershipRefusedError(
          `node ${nodeId} is ${entry.health}: a node that cannot hand its slots off is removed ` +
            `(DELETE /_cluster/nodes/${nodeId}) instead`,
        );
      }
      return await cluster.leaveThrough(nodeId);
    },
  };
}
