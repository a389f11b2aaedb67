/**
 * The ClusterCoordinator: the one owner of the cluster view. Its state — members, which
 * are connected, the ring, the peer ids behind node ids — changes only in its handler, on
 * messages: libp2p events (fed by the transport as `transport` messages), a peer's
 * `hello`, the answer to our own hello, and the one-shot boot check. Nothing polls.
 *
 * Meeting a peer: when libp2p has identified a peer that speaks the actor protocol, the
 * coordinator asks the peer's coordinator `hello` with its own node info, the members it
 * knows and its index schemas; both sides learn each other, dial members they did not
 * know, and adopt schemas they lack. Every change publishes a new {@linkcode ClusterView}
 * to the router.
 *
 * Membership only grows: a node that is lost stays a member (not connected), keeps its
 * microshards on the ring, and its writes fail fast with 503 until it is back. The member
 * list is kept in `cluster.json`; on boot it is compared with the peers that answer, and
 * the differences are logged and shown in `/_cluster/health`.
 *
 * @module
 */

import type { Actor } from "../actors/types.ts";
import { ACTOR_PROTOCOL } from "./remote_protocol.ts";
import { HashRing } from "./ring.ts";
import type { TransportEvent } from "./transport.ts";
import type { TrustCounters } from "./trust_counters.ts";
import type { ClusterView, Hello, MemberView, NodeInfo, SchemaInfo } from "./view.ts";

/** Messages of the ClusterCoordinator. */
export type CoordinatorMsg =
  | { type: "transport"; event: TransportEvent }
  | { type: "hello"; hello: Hello }
  | { type: "welcomed"; peer: string; hello: Hello }
  | { type: "helloFailed"; peer: string; reason: string }
  | { type: "bootCheck" }
  | { type: "view" }
  | { type: "health" };

/** Replies of the ClusterCoordinator. */
export type CoordinatorReplies = {
  transport: void;
  hello: Hello;
  welcomed: void;
  helloFailed: void;
  bootCheck: void;
  view: ClusterView;
  health: ClusterHealth;
};

/** What `/_cluster/health` shows of the cluster. */
export interface ClusterHealth {
  status: "green" | "yellow" | "red";
  total_nodes: number;
  connected_nodes: number;
  nodes: Array<
    { node_id: string; name: string; connected: boolean; http: string; peer_id: string }
  >;
  /** Differences between the member list kept on disk and the peers that answered at boot. */
  snapshot: { checked: boolean; missing: string[]; unexpected: string[] };
  telemetry: {
    peers_connected: number;
    peers_disconnected: number;
    peers_discovered: number;
    hellos_sent: number;
    hellos_received: number;
    hello_failures: number;
    dial_failures: number;
    view_changes: number;
  } & TrustCounters;
}

/** What the coordinator needs from the node around it. */
export interface CoordinatorDeps {
  readonly self: NodeInfo;
  readonly dataDir: string;
  readonly seeds: readonly string[];
  /** Peer ids behind node ids: written by the coordinator only, read by the peer pool. */
  readonly peers: Map<string, string>;
  /** Asks a peer's coordinator `hello` over a fresh link. */
  readonly sendHello: (peer: string, hello: Hello) => Promise<Hello>;
  readonly dial: (address: string) => Promise<string>;
  readonly keepAlive: (peer: string, addrs: readonly string[]) => Promise<void>;
  /** Whether libp2p has a connection to `peer` now. */
  readonly isConnected: (peer: string) => boolean;
  readonly pool: {
    addNode(node: string): void;
    dropNode(node: string, reason: string): Promise<void>;
  };
  readonly schemas: () => SchemaInfo[];
  /** What peers sent that this node refused (counted by the links, host and coordinator). */
  readonly counters: TrustCounters;
  readonly adoptSchemas: (schemas: readonly SchemaInfo[]) => Promise<void>;
  /** Delivers a message to this coordinator (answers of its own requests, the boot check). */
  readonly tellSelf: (msg: CoordinatorMsg) => void;
  /** Told every new view. */
  readonly onView: (view: ClusterView) => void;
  /** When the boot check compares the kept member list with the peers that answered. */
  readonly bootCheckAfterMs: number;
  readonly log: {
    info(message: string): void;
    warn(message: string): void;
  };
}

interface Member {
  info: NodeInfo;
  connected: boolean;
}

interface Snapshot {
  cluster_name: string;
  members: NodeInfo[];
}

/** Reads the member list kept on disk. */
export async function loadSnapshot(dataDir: string): Promise<NodeInfo[]> {
  try {
    const snapshot = JSON.parse(await Deno.readTextFile(`${dataDir}/cluster.json`)) as Snapshot;
    return snapshot.members ?? [];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Builds the coordinator; `snapshot` is the member list read from disk at boot. */
export function createCoordinator(
  deps: CoordinatorDeps,
  snapshot: readonly NodeInfo[],
): Actor<CoordinatorMsg, CoordinatorReplies> {
  const self = deps.self;
  const members = new Map<string, Member>([[self.nodeId, { info: self, connected: true }]]);
  const byPeer = new Map<string, string>();
  let ring = new HashRing([self.nodeId]);
  const boot = { checked: false, missing: [] as string[], unexpected: [] as string[] };
  const telemetry = {
    peers_connected: 0,
    peers_disconnected: 0,
    peers_discovered: 0,
    hellos_sent: 0,
    hellos_received: 0,
    hello_failures: 0,
    dial_failures: 0,
    view_changes: 0,
  };
  let bootTimer: ReturnType<typeof setTimeout> | undefined;

  const view = (): ClusterView => ({
    self: self.nodeId,
    members: new Map<string, MemberView>(
      [...members].map(([id, m]) => [id, { info: m.info, connected: m.connected }]),
    ),
    ring,
  });

  const publish = () => {
    telemetry.view_changes++;
    deps.onView(view());
  };

  const persist = async () => {
    const data: Snapshot = {
      cluster_name: self.clusterName,
      members: [...members.values()].map((m) => m.info),
    };
    const path = `${deps.dataDir}/cluster.json`;
    await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(data, null, 2));
    await Deno.rename(`${path}.tmp`, path);
  };

  const dial = (address: string) => {
    deps.dial(address).catch((error) => {
      telemetry.dial_failures++;
      deps.log.warn(`cannot dial ${address}: ${(error as Error).message}`);
    });
  };

  /** Records a member: whether it is new, or known with different info (addresses, say). */
  const learn = (info: NodeInfo, connected: boolean): "new" | "changed" | "same" => {
    const known = members.get(info.nodeId);
    members.set(info.nodeId, { info, connected: connected || (known?.connected ?? false) });
    deps.peers.set(info.nodeId, info.peerId);
    byPeer.set(info.peerId, info.nodeId);
    if (known === undefined) return "new";
    return JSON.stringify(known.info) === JSON.stringify(info) ? "same" : "changed";
  };

  /** A peer introduced itself (by our hello's answer or its own hello). */
  const meet = (hello: Hello): void => {
    const info = hello.info;
    if (info.clusterName !== self.clusterName) {
      throw new Error(
        `node ${info.name} (${info.nodeId}) is in cluster "${info.clusterName}", not "${self.clusterName}"`,
      );
    }
    if (info.nodeId === self.nodeId) return;
    const wasConnected = members.get(info.nodeId)?.connected ?? false;
    const learned = [learn(info, true)];
    deps.pool.addNode(info.nodeId);
    deps.keepAlive(info.peerId, info.addrs).catch(() => {});
    for (const other of hello.members) {
      if (other.nodeId === self.nodeId || other.clusterName !== self.clusterName) continue;
      if (!members.has(other.nodeId)) {
        learned.push(learn(other, false));
        for (const address of other.addrs) dial(address);
      }
    }
    if (learned.includes("new")) ring = new HashRing(members.keys());
    if (learned.some((outcome) => outcome !== "same")) {
      persist().catch((error) => deps.log.warn(`cannot keep the member list: ${error}`));
    }
    if (!wasConnected) deps.log.info(`node ${info.name} (${info.nodeId}) joined`);
    if (hello.schemas.length > 0) {
      deps.adoptSchemas(hello.schemas).catch((error) =>
        deps.log.warn(`cannot adopt the schemas of ${info.name}: ${(error as Error).message}`)
      );
    }
    publish();
  };

  const hello = (): Hello => ({
    info: self,
    members: [...members.values()].map((m) => m.info),
    schemas: deps.schemas(),
  });

  const onTransport = (event: TransportEvent) => {
    switch (event.kind) {
      case "connected":
        telemetry.peers_connected++;
        return;
      case "identified": {
        if (!event.protocols.includes(ACTOR_PROTOCOL)) return;
        telemetry.hellos_sent++;
        deps.sendHello(event.peer, hello()).then(
          (answer) => deps.tellSelf({ type: "welcomed", peer: event.peer, hello: answer }),
          (error) =>
            deps.tellSelf({
              type: "helloFailed",
              peer: event.peer,
              reason: (error as Error).message,
            }),
        );
        return;
      }
      case "disconnected": {
        telemetry.peers_disconnected++;
        const node = byPeer.get(event.peer);
        const member = node === undefined ? undefined : members.get(node);
        if (node === undefined || member === undefined || !member.connected) return;
        if (deps.isConnected(event.peer)) return;
        member.connected = false;
        void deps.pool.dropNode(node, "the connection was lost");
        deps.log.warn(`node ${member.info.name} (${node}) was lost`);
        publish();
        return;
      }
      case "discovered": {
        telemetry.peers_discovered++;
        if (byPeer.has(event.peer) && members.get(byPeer.get(event.peer)!)?.connected) return;
        for (const address of event.addrs) {
          dial(address.includes("/p2p/") ? address : `${address}/p2p/${event.peer}`);
        }
        return;
      }
    }
  };

  return {
    onStart() {
      bootTimer = setTimeout(() => deps.tellSelf({ type: "bootCheck" }), deps.bootCheckAfterMs);
      for (const info of snapshot) {
        if (info.nodeId === self.nodeId || info.clusterName !== self.clusterName) continue;
        learn(info, false);
      }
      ring = new HashRing(members.keys());
      publish();
      for (const seed of deps.seeds) dial(seed);
      for (const info of snapshot) {
        if (info.nodeId !== self.nodeId) { for (const address of info.addrs) dial(address); }
      }
    },
    onStop() {
      clearTimeout(bootTimer);
    },
    receive(msg) {
      switch (msg.type) {
        case "transport":
          onTransport(msg.event);
          return;
        case "hello":
          telemetry.hellos_received++;
          meet(msg.hello);
          return hello();
        case "welcomed":
          try {
            meet(msg.hello);
          } catch (error) {
            telemetry.hello_failures++;
            deps.log.warn(`refused peer ${msg.peer}: ${(error as Error).message}`);
          }
          return;
        case "helloFailed":
          telemetry.hello_failures++;
          deps.log.warn(`hello to peer ${msg.peer} failed: ${msg.reason}`);
          return;
        case "bootCheck": {
          boot.checked = true;
          const known = new Set(snapshot.map((info) => info.nodeId));
          boot.missing = snapshot
            .filter((info) => info.nodeId !== self.nodeId && !members.get(info.nodeId)?.connected)
            .map((info) => info.nodeId);
          // On a first boot there is no list to compare with: every peer would be "new".
          boot.unexpected = snapshot.length === 0 ? [] : [...members.values()]
            .filter((m) =>
              m.connected && m.info.nodeId !== self.nodeId && !known.has(m.info.nodeId)
            )
            .map((m) => m.info.nodeId);
          if (boot.missing.length > 0 || boot.unexpected.length > 0) {
            deps.log.warn(
              `cluster at boot differs from the kept member list: missing [${
                boot.missing.join(", ")
              }], new [${boot.unexpected.join(", ")}]`,
            );
          } else {
            deps.log.info("cluster at boot matches the kept member list");
          }
          return;
        }
        case "view":
          return view();
        case "health": {
          const total = members.size;
          const connected = [...members.values()].filter((m) => m.connected).length;
          const status = connected === total
            ? "green"
            : connected < Math.floor(total / 2) + 1
            ? "red"
            : "yellow";
          return {
            status,
            total_nodes: total,
            connected_nodes: connected,
            nodes: [...members.values()].map((m) => ({
              node_id: m.info.nodeId,
              name: m.info.name,
              connected: m.connected,
              http: m.info.http,
              peer_id: m.info.peerId,
            })),
            snapshot: { checked: boot.checked, missing: boot.missing, unexpected: boot.unexpected },
            telemetry: { ...telemetry, ...deps.counters },
          };
        }
      }
    },
  };
}
