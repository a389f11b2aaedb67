/**
 * The cluster transport: one libp2p node per process — TCP, Noise, Yamux, Identify, Ping
 * and a Kademlia DHT (private protocol id, server mode on loopback) — with an optional
 * pre-shared key that makes the swarm a private network. The node's key is kept in the
 * data directory, so a restarted node keeps its peer id.
 *
 * The transport reports libp2p's events to one listener (the ClusterCoordinator turns
 * them into messages) and opens and serves the remote actor protocol's links.
 *
 * @module
 */

import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { identify } from "@libp2p/identify";
import type { PrivateKey, Stream } from "@libp2p/interface";
import { kadDHT } from "@libp2p/kad-dht";
import { peerIdFromString } from "@libp2p/peer-id";
import { ping } from "@libp2p/ping";
import { preSharedKey } from "@libp2p/pnet";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import {
  BufferBudget,
  DEFAULT_MAX_CONNECTION_PENDING_BYTES,
  DEFAULT_MAX_NODE_PENDING_BYTES,
} from "./buffer_budget.ts";
import { FrameLink } from "./link.ts";
import { ACTOR_PROTOCOL } from "./remote_protocol.ts";
import type { TrustCounters } from "./trust_counters.ts";
import type { WireCodec } from "./wire.ts";

/** The DHT protocol id of CameoDB clusters (kept apart from the public IPFS DHT). */
export const DHT_PROTOCOL = "/cameodb/kad/1.0.0";

/** What the transport reports. */
export type TransportEvent =
  | { readonly kind: "connected"; readonly peer: string }
  | { readonly kind: "disconnected"; readonly peer: string }
  | { readonly kind: "identified"; readonly peer: string; readonly protocols: readonly string[] }
  | { readonly kind: "discovered"; readonly peer: string; readonly addrs: readonly string[] };

/** Options of {@linkcode ClusterTransport.start}. */
export interface TransportOptions {
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly privateKey: PrivateKey;
  /** With a key, only nodes holding the same key can connect. */
  readonly psk?: string;
  readonly codec: WireCodec;
  /** Told every libp2p event that matters to the cluster view. */
  readonly onEvent: (event: TransportEvent) => void;
  /** Builds the frame handler of a link a peer opened to this node. */
  readonly onInboundLink: (link: FrameLink, peer: string) => (frame: unknown) => void;
  /** Where refused frames are counted. */
  readonly counters?: TrustCounters;
  /** Unfinished incoming frames one connection may hold, in bytes. */
  readonly maxConnectionPendingBytes?: number;
  /** Unfinished incoming frames every connection together may hold, in bytes. */
  readonly maxNodePendingBytes?: number;
}

/** Streams of the actor protocol a peer may open on one connection. */
export const MAX_INBOUND_ACTOR_STREAMS = 64;

/** Loads the node's libp2p key from `dir`, creating it on first start. */
export async function loadClusterKey(dir: string): Promise<PrivateKey> {
  const path = `${dir}/cluster.key`;
  try {
    return privateKeyFromProtobuf(await Deno.readFile(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true });
  const key = await generateKeyPair("Ed25519");
  await Deno.writeFile(`${path}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
  return key;
}

/**
 * The swarm key file libp2p's private networks expect, derived from any passphrase:
 * the SHA-256 of the passphrase is the 32-byte key.
 */
export async function swarmKey(passphrase: string): Promise<Uint8Array> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(passphrase)),
  );
  const hex = [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}`);
}

/** A running libp2p node. */
export class ClusterTransport {
  readonly #node: Libp2p;
  readonly #codec: WireCodec;
  readonly #options: TransportOptions;
  readonly #nodeBudget: BufferBudget;
  readonly #connectionBudgets = new Map<string, BufferBudget>();

  private constructor(node: Libp2p, options: TransportOptions) {
    this.#node = node;
    this.#codec = options.codec;
    this.#options = options;
    this.#nodeBudget = new BufferBudget(
      options.maxNodePendingBytes ?? DEFAULT_MAX_NODE_PENDING_BYTES,
    );
    node.addEventListener("connection:close", (event) => {
      this.#connectionBudgets.delete(event.detail.id);
    });
  }

  /** The budget of unfinished frames of one connection (all its streams together). */
  #budget(connectionId: string): BufferBudget {
    let budget = this.#connectionBudgets.get(connectionId);
    if (budget === undefined) {
      budget = new BufferBudget(
        this.#options.maxConnectionPendingBytes ?? DEFAULT_MAX_CONNECTION_PENDING_BYTES,
        this.#nodeBudget,
      );
      this.#connectionBudgets.set(connectionId, budget);
    }
    return budget;
  }

  #link(stream: Stream, connectionId: string, onFrame: (frame: unknown) => void): FrameLink {
    return new FrameLink(stream, this.#codec, onFrame, {
      budget: this.#budget(connectionId),
      ...(this.#options.counters === undefined ? {} : { counters: this.#options.counters }),
    });
  }

  /** Starts listening; events flow to `onEvent` from now on. */
  static async start(options: TransportOptions): Promise<ClusterTransport> {
    const node = await createLibp2p({
      privateKey: options.privateKey,
      addresses: { listen: [`/ip4/${options.host}/tcp/${options.port}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      ...(options.psk === undefined || options.psk === ""
        ? {}
        : { connectionProtector: preSharedKey({ psk: await swarmKey(options.psk) }) }),
      services: {
        ping: ping(),
        identify: identify(),
        dht: kadDHT({
          protocol: DHT_PROTOCOL,
          clientMode: false,
          // Loopback and private addresses are how test and LAN clusters talk: keep them.
          peerInfoMapper: (info) => info,
        }),
      },
    });
    const transport = new ClusterTransport(node, options);
    const emit = options.onEvent;
    node.addEventListener("peer:connect", (event) => {
      emit({ kind: "connected", peer: event.detail.toString() });
    });
    node.addEventListener("peer:disconnect", (event) => {
      emit({ kind: "disconnected", peer: event.detail.toString() });
    });
    node.addEventListener("peer:identify", (event) => {
      emit({
        kind: "identified",
        peer: event.detail.peerId.toString(),
        protocols: event.detail.protocols,
      });
    });
    node.addEventListener("peer:discovery", (event) => {
      emit({
        kind: "discovered",
        peer: event.detail.id.toString(),
        addrs: event.detail.multiaddrs.map(String),
      });
    });
    await node.handle(ACTOR_PROTOCOL, (stream, connection) => {
      let handler: (frame: unknown) => void = () => {};
      const link = transport.#link(stream, connection.id, (frame) => handler(frame));
      handler = options.onInboundLink(link, connection.remotePeer.toString());
    }, { maxInboundStreams: MAX_INBOUND_ACTOR_STREAMS });
    return transport;
  }

  /** This node's peer id. */
  get peerId(): string {
    return this.#node.peerId.toString();
  }

  /** The addresses peers dial, each ending in `/p2p/<peer id>`. */
  get multiaddrs(): string[] {
    return this.#node.getMultiaddrs().map(String);
  }

  /** Whether there is an open connection to `peer`. */
  isConnected(peer: string): boolean {
    return this.#node.getConnections(peerIdFromString(peer)).length > 0;
  }

  /** Dials an address (with or without `/p2p/…`); resolves with the peer id. */
  async dial(address: string, timeoutMs = 5_000): Promise<string> {
    const connection = await this.#node.dial(multiaddr(address), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return connection.remotePeer.toString();
  }

  /** Keeps a connection to `peer`: libp2p redials it when the connection drops. */
  async keepAlive(peer: string, addrs: readonly string[]): Promise<void> {
    await this.#node.peerStore.merge(peerIdFromString(peer), {
      multiaddrs: addrs.map((addr) => multiaddr(addr)),
      tags: { "keep-alive": { value: 1 } },
    });
  }

  /** Opens a request link to `peer` over the remote actor protocol. */
  async openLink(peer: string, onFrame: (frame: unknown) => void, timeoutMs = 5_000) {
    const signal = AbortSignal.timeout(timeoutMs);
    const connection = await this.#node.dial(peerIdFromString(peer), { signal });
    const stream = await connection.newStream(ACTOR_PROTOCOL, { signal });
    return this.#link(stream, connection.id, onFrame);
  }

  /** Stops the node: every connection closes. */
  async stop(): Promise<void> {
    await this.#node.stop();
  }
}
