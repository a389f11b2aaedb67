/**
 * What this node exposes to its peers, and to whom: the `node` service to admitted peers
 * only (a peer id bound to a member), the `coordinator` to anyone who can connect but
 * for `hello` and `heartbeat` only, and with the Noise-authenticated peer id of the
 * connection written into the message (a peer cannot claim to be another). Nothing else
 * is reachable; lifecycle requests are refused by the host before this is asked.
 *
 * @module
 */

import type { ActorRef, AskOptions, Message, ReplyMap } from "../actors/types.ts";
import { PeerRefusedError } from "./errors.ts";
import type { Exposed, ExposedActors } from "./remote_host.ts";

/** The name the coordinator is registered and exposed under. */
export const COORDINATOR = "coordinator";

/** Coordinator messages a peer may send. */
export const PEER_COORDINATOR_MESSAGES: ReadonlySet<string> = new Set(["hello", "heartbeat"]);

/** What {@linkcode exposeActors} needs. */
export interface ExposureOptions {
  readonly serviceName: string;
  readonly service: Exposed;
  /** Undefined until the coordinator is spawned (requests are refused until then). */
  readonly coordinator: () => Exposed | undefined;
  /** Whether the libp2p peer is an admitted member (bound to a node id, connected). */
  readonly isAdmitted: (peer: string) => boolean;
}

/** The lookup the remote host serves peers through. */
export function exposeActors(options: ExposureOptions): ExposedActors {
  return (name, peer) => {
    if (name === options.serviceName) {
      if (!options.isAdmitted(peer)) {
        throw new PeerRefusedError(peer, "it is not an admitted member of this cluster");
      }
      return options.service;
    }
    if (name !== COORDINATOR) return undefined;
    const coordinator = options.coordinator();
    if (coordinator === undefined) return undefined;
    return { ref: fromPeer(coordinator.ref, peer), mailboxCapacity: coordinator.mailboxCapacity };
  };
}

/** The coordinator as one peer may use it: allowed messages only, stamped with the peer. */
function fromPeer(
  ref: ActorRef<Message, ReplyMap<Message>>,
  peer: string,
): ActorRef<Message, ReplyMap<Message>> {
  const stamp = (msg: Message): Message => {
    if (!PEER_COORDINATOR_MESSAGES.has(msg.type)) {
      throw new PeerRefusedError(peer, `the coordinator does not take "${msg.type}" from peers`);
    }
    return { ...msg, peer } as Message;
  };
  return {
    address: ref.address,
    tell: (msg) => ref.tell(stamp(msg)),
    ask: ((msg: Message, options?: AskOptions) => {
      try {
        return ref.ask(stamp(msg), options);
      } catch (error) {
        return Promise.reject(error);
      }
    }) as ActorRef<Message, ReplyMap<Message>>["ask"],
    stop: () =>
      Promise.reject(new PeerRefusedError(peer, "actors are not stopped from the network")),
  };
}
