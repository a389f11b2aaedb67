/**
 * A bare libp2p client that speaks to a CameoDB cluster port the way an attacker would:
 * its own fresh key, with or without the pre-shared key, sending raw bytes or frames of
 * its choosing on the actor protocol. Used by the cluster trust suite.
 *
 * @module
 */

import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { Stream } from "@libp2p/interface";
import { preSharedKey } from "@libp2p/pnet";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { ACTOR_PROTOCOL } from "../cluster/remote_protocol.ts";
import { swarmKey } from "../cluster/transport.ts";
import { FrameDecoder, WireCodec } from "../cluster/wire.ts";
import { withDeadline } from "../testing/deadline.ts";

/** What came back on one stream after sending something. */
export interface StreamOutcome {
  /** Frames the node answered with. */
  readonly answers: unknown[];
  /** Whether the node closed (or reset) the stream within the wait. */
  readonly closed: boolean;
}

/** A libp2p node under the attacker's control. */
export class ClusterAttacker {
  readonly #node: Libp2p;
  readonly #codec = new WireCodec();

  private constructor(node: Libp2p) {
    this.#node = node;
  }

  /** Starts one, holding `psk` (or none). */
  static async start(psk?: string): Promise<ClusterAttacker> {
    const node = await createLibp2p({
      addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      ...(psk === undefined
        ? {}
        : { connectionProtector: preSharedKey({ psk: await swarmKey(psk) }) }),
    });
    return new ClusterAttacker(node);
  }

  /** Its peer id (a fresh key every start). */
  get peerId(): string {
    return this.#node.peerId.toString();
  }

  /** Its own addresses. */
  get addrs(): string[] {
    return this.#node.getMultiaddrs().map(String);
  }

  /** Opens an actor-protocol stream to `address` within `timeoutMs`. */
  async open(address: string, timeoutMs = 5_000): Promise<Stream> {
    return await this.#node.dialProtocol(multiaddr(address), ACTOR_PROTOCOL, {
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  /** Encodes a value as one frame of the wire format. */
  frame(value: unknown): Uint8Array {
    return this.#codec.encode(value);
  }

  /**
   * Sends `bytes` on a fresh stream to `address`; collects answer frames until `answers`
   * arrived, the stream closed, or `waitMs` passed.
   */
  async send(
    address: string,
    bytes: Uint8Array,
    options: { answers?: number; waitMs?: number } = {},
  ): Promise<StreamOutcome> {
    const stream = await this.open(address);
    const decoder = new FrameDecoder(this.#codec);
    const answers: unknown[] = [];
    const done = Promise.withResolvers<boolean>();
    stream.addEventListener("message", (event) => {
      try {
        answers.push(...decoder.push(event.data.subarray()));
      } catch {
        done.resolve(false);
      }
      if (answers.length >= (options.answers ?? Infinity)) done.resolve(false);
    });
    stream.addEventListener("close", () => done.resolve(true));
    stream.send(bytes);
    let closed = false;
    try {
      closed = await withDeadline(done.promise, options.waitMs ?? 3_000, "an answer or a close");
    } catch {
      closed = false;
    }
    if (!closed) stream.abort(new Error("done"));
    return { answers, closed };
  }

  /** Stops it. */
  async stop(): Promise<void> {
    await this.#node.stop();
  }
}
