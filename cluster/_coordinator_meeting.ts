/**
 * How the coordinator meets peers: libp2p events (connected, identified, disconnected,
 * discovered) and hellos. When libp2p has identified a peer that speaks the actor protocol,
 * the coordinator asks the peer's coordinator `hello` with its own node info, the members it
 * knows, its records, slot table and index schemas. A hello admits only its sender, over its
 * own connection: the claimed peer id must be the connection's (Noise-authenticated), and
 * the node id ↔ peer id binding (made at the first admission, kept in `cluster.json`) must
 * hold. The members a hello lists are dialed, and admitted by their own hello.
 *
 * @module
 */

import type { Handlers } from "../actors/handlers.ts";
import type { CoordinatorParts } from "./_coordinator_slots.ts";
import type { CoordinatorState } from "./_coordinator_state.ts";
import { admissionRefusal } from "./admission.ts";
import type { CoordinatorMsg, CoordinatorReplies } from "./coordinator_protocol.ts";
import { PeerRefusedError } from "./errors.ts";
import { checkedHello } from "./peer_input.ts";
import { ACTOR_PROTOCOL } from "./remote_protocol.ts";
import type { TransportEvent } from "./transport.ts";
import type { Hello, NodeInfo } from "./view.ts";

/** The coordinator messages the meeting handles. */
export type MeetingMessages = "transport" | "hello" | "welcomed" | "helloFailed";

/** How one coordinator meets peers. */
export class Meeting {
  readonly #s: CoordinatorState;
  readonly #parts: CoordinatorParts;

  constructor(parts: CoordinatorParts) {
    this.#s = parts.state;
    this.#parts = parts;
  }

  /** The handlers of the meeting messages. */
  handlers(): Pick<Handlers<CoordinatorMsg, CoordinatorReplies>, MeetingMessages> {
    const s = this.#s;
    return {
      transport: (msg) => this.#onTransport(msg.event),
      hello: (msg) => {
        s.telemetry.hellos_received++;
        this.#meet(checkedHello(msg.hello, msg.peer, s.deps.counters), msg.peer);
        return this.hello();
      },
      welcomed: (msg) => {
        try {
          this.#meet(checkedHello(msg.hello, msg.peer, s.deps.counters), msg.peer);
        } catch (error) {
          s.telemetry.hello_failures++;
          s.deps.log.warn(`refused peer ${msg.peer}: ${(error as Error).message}`);
        }
      },
      helloFailed: (msg) => {
        s.telemetry.hello_failures++;
        s.deps.log.warn(`hello to peer ${msg.peer} failed: ${msg.reason}`);
      },
    };
  }

  /** What this node says of itself to a peer. */
  hello(): Hello {
    const s = this.#s;
    return {
      info: s.self,
      members: [...s.members.values()].map((m) => m.info),
      schemas: s.deps.schemas(),
      records: this.#parts.records.all(),
      slots: s.table.toWire(),
      drops: s.deps.indexDrops?.() ?? [],
    };
  }

  /** Records a member: whether it is new, or known with different info (addresses, say). */
  learn(info: NodeInfo, connected: boolean): "new" | "changed" | "same" {
    const s = this.#s;
    const known = s.members.get(info.nodeId);
    s.members.set(info.nodeId, { info, connected: connected || (known?.connected ?? false) });
    s.deps.peers.set(info.nodeId, info.peerId);
    s.byPeer.set(info.peerId, info.nodeId);
    if (known === undefined) return "new";
    return JSON.stringify(known.info) === JSON.stringify(info) ? "same" : "changed";
  }

  #onTransport(event: TransportEvent): void {
    const s = this.#s;
    switch (event.kind) {
      case "connected":
        s.telemetry.peers_connected++;
        return;
      case "identified":
        if (!event.protocols.includes(ACTOR_PROTOCOL)) return;
        s.telemetry.hellos_sent++;
        s.deps.sendHello(event.peer, this.hello()).then(
          (answer) => s.deps.tellSelf({ type: "welcomed", peer: event.peer, hello: answer }),
          (error) =>
            s.deps.tellSelf({
              type: "helloFailed",
              peer: event.peer,
              reason: (error as Error).message,
            }),
        );
        return;
      case "disconnected":
        s.telemetry.peers_disconnected++;
        this.#onDisconnected(event.peer);
        return;
      case "discovered":
        s.telemetry.peers_discovered++;
        this.#onDiscovered(event.peer, event.addrs);
        return;
    }
  }

  /** libp2p lost a connection to `peer`: the member is lost if no other connection is left. */
  #onDisconnected(peer: string): void {
    const s = this.#s;
    const node = s.byPeer.get(peer);
    const member = node === undefined ? undefined : s.members.get(node);
    if (node === undefined || member === undefined || !member.connected) return;
    if (s.deps.isConnected(peer)) return;
    s.disconnect(node, "the connection was lost");
    s.deps.log.warn(`node ${member.info.name} (${node}) was lost`);
    s.publish();
  }

  /** Only admitted members are dialed: a discovery record can name any host and port. */
  #onDiscovered(peer: string, addrs: readonly string[]): void {
    const s = this.#s;
    const node = s.byPeer.get(peer);
    if (node === undefined || s.members.get(node)?.connected || s.isRemoved(node)) return;
    for (const address of addrs) {
      if (!address.includes("/p2p/")) s.dial(`${address}/p2p/${peer}`);
      else if (address.endsWith(`/p2p/${peer}`)) s.dial(address);
    }
  }

  /**
   * Why a hello may not admit its sender, or `undefined` when it may. The first admission
   * binds node id ↔ peer id (kept in `cluster.json`); the peer id is the connection's,
   * authenticated by Noise, so a node cannot answer for another (as CockroachDB binds a
   * node to its certificate, and Elasticsearch 8 admits a node by its enrolment).
   */
  #refusal(info: NodeInfo, peer: string): string | undefined {
    const s = this.#s;
    return admissionRefusal(info, peer, {
      self: s.self,
      isRemoved: (node) => s.records.get(node)?.state === "removed",
      peerOf: (node) => s.members.get(node)?.info.peerId,
      nodeOf: (peer) => s.byPeer.get(peer),
    });
  }

  /**
   * A peer introduced itself over its own connection `peer` (its hello, or the answer to
   * ours). Only the sender is admitted; the members it lists are dialed (by addresses that
   * name their peer id, so Noise checks who answers) and admitted by their own hello.
   */
  #meet(hello: Hello, peer: string): void {
    const s = this.#s;
    const info = hello.info;
    const refused = this.#refusal(info, peer);
    if (refused !== undefined) {
      s.deps.counters.refused_hellos++;
      s.deps.log.warn(`refused the hello of ${info.name} (${info.nodeId}): ${refused}`);
      throw new PeerRefusedError(peer, refused);
    }
    const wasConnected = s.members.get(info.nodeId)?.connected ?? false;
    const learned = this.learn(info, true);
    s.detector.heard(info.nodeId);
    s.deps.pool.addNode(info.nodeId);
    s.deps.keepAlive(info.peerId, info.addrs).catch(() => {});
    this.#dialListed(hello.members);
    this.#parts.records.ensure(info);
    const merged = this.#parts.records.take(hello.records ?? [], info.nodeId);
    if (hello.slots !== undefined) this.#parts.slots.takeHello(info.nodeId, hello.slots);
    if (learned === "new" || merged) s.rebuildRing();
    if (learned !== "same" && !merged) s.keepMembers();
    if (!wasConnected) s.deps.log.info(`node ${info.name} (${info.nodeId}) joined`);
    // Joining ends once the member's schemas are adopted: then this node holds the view.
    s.deps.adoptSchemas(hello.schemas, hello.drops ?? []).catch((error) =>
      s.deps.log.warn(`cannot adopt the schemas of ${info.name}: ${(error as Error).message}`)
    ).finally(() => {
      if (s.joining) s.deps.tellSelf({ type: "adopted", from: info.name });
    });
    s.publish();
    this.#parts.slots.plan();
  }

  /** Dials the members a hello lists that this node has not met, by their peer id. */
  #dialListed(listed: readonly NodeInfo[]): void {
    const s = this.#s;
    for (const other of listed) {
      if (other.nodeId === s.self.nodeId || other.clusterName !== s.self.clusterName) continue;
      if (s.members.get(other.nodeId)?.connected === true || s.byPeer.has(other.peerId)) continue;
      for (const address of other.addrs) {
        if (address.endsWith(`/p2p/${other.peerId}`)) s.dial(address);
      }
    }
  }
}
