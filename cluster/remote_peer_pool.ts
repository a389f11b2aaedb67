/**
 * The RemotePeerPool: remote actor refs cached per (node, actor name), and one request
 * link per node, opened on first use. When a node is lost its link is closed and its
 * refs are dropped: requests in flight and later messages through the old refs fail with
 * `NodeUnavailableError` at once; the next `ref()` after the node is back builds fresh
 * ones.
 *
 * @module
 */

import type { ActorRef, Message, ReplyMap } from "../actors/types.ts";
import { NodeUnavailableError } from "./errors.ts";
import type { FrameLink } from "./link.ts";
import { RemoteClient } from "./remote_client.ts";
import type { Request, Resolved } from "./remote_protocol.ts";
import { RemoteActorRef } from "./remote_ref.ts";
import { within } from "./within.ts";

/** Opens a request link to a node; the pool passes the frame handler. */
export type LinkOpener = (
  node: string,
  onFrame: (frame: unknown) => void,
) => Promise<FrameLink>;

/** How long resolving a remote actor may take, in ms. */
export const RESOLVE_TIMEOUT_MS = 5_000;

interface PeerEntry {
  client: Promise<RemoteClient> | undefined;
  refs: Map<string, Promise<RemoteActorRef<Message, ReplyMap<Message>>>>;
}

/** Cached remote refs and links, per node. */
export class RemotePeerPool {
  readonly #open: LinkOpener;
  readonly #peers = new Map<string, PeerEntry>();

  constructor(open: LinkOpener) {
    this.#open = open;
  }

  /** Makes `node` reachable (it connected). */
  addNode(node: string): void {
    if (!this.#peers.has(node)) this.#peers.set(node, { client: undefined, refs: new Map() });
  }

  /** The ref of actor `name` on `node` (cached). */
  ref<M extends Message, R extends ReplyMap<M>>(
    node: string,
    name: string,
  ): Promise<ActorRef<M, R>> {
    const entry = this.#peers.get(node);
    if (entry === undefined) {
      return Promise.reject(new NodeUnavailableError(node, "not connected"));
    }
    let ref = entry.refs.get(name);
    if (ref === undefined) {
      const request = (req: Request) => this.#request(node, entry, req);
      ref = within(
        request({ k: "resolve", name }),
        RESOLVE_TIMEOUT_MS,
        () => new NodeUnavailableError(node, `no answer within ${RESOLVE_TIMEOUT_MS} ms`),
      ).then(
        (resolved) =>
          new RemoteActorRef<Message, ReplyMap<Message>>(
            { node, name },
            (resolved as Resolved).mailboxCapacity,
            request,
          ),
      );
      entry.refs.set(name, ref);
      ref.catch(() => {
        if (entry.refs.get(name) === ref) entry.refs.delete(name);
      });
    }
    return ref as unknown as Promise<ActorRef<M, R>>;
  }

  /** The node is lost: fail its refs, forget them, close its link (resolves once closed). */
  async dropNode(node: string, reason: string): Promise<void> {
    const entry = this.#peers.get(node);
    if (entry === undefined) return;
    this.#peers.delete(node);
    const error = new NodeUnavailableError(node, reason);
    for (const ref of entry.refs.values()) ref.then((r) => r.lose(error), () => {});
    await entry.client?.then((client) => client.close(), () => {});
  }

  /** Closes every link. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#peers.keys()].map((node) => this.dropNode(node, "the pool closed")),
    );
  }

  #request(node: string, entry: PeerEntry, request: Request): Promise<unknown> {
    if (this.#peers.get(node) !== entry) {
      return Promise.reject(new NodeUnavailableError(node, "not connected"));
    }
    return this.#client(node, entry).then((client) => client.request(request));
  }

  #client(node: string, entry: PeerEntry): Promise<RemoteClient> {
    const current = entry.client;
    if (current !== undefined) {
      return current.then((client) => {
        if (client.open) return client;
        if (entry.client === current) entry.client = undefined;
        return this.#client(node, entry);
      });
    }
    const created = RemoteClient.open(node, (onFrame) => this.#open(node, onFrame)).catch(
      (error) => {
        throw new NodeUnavailableError(node, (error as Error).message);
      },
    );
    entry.client = created;
    created.catch(() => {
      if (entry.client === created) entry.client = undefined;
    });
    return created;
  }
}
