/**
 * The cluster's {@linkcode Executor}: it decides where an operation runs by the cluster view
 * (which the ClusterCoordinator hands it on every change) and runs it there — unicast to the
 * owner node with retries and a timeout, bulk writes grouped per owner and forwarded in
 * parallel, and scatter-gather under `broadcast_timeout` with at most
 * `broadcast_fanout_limit` requests in flight. A node that fails or times out in a broadcast
 * is counted (`nodes_failed`, and its shards in `failed_shards`); the answer still arrives
 * within the timeout.
 *
 * @module
 */

import { serializeError } from "../actors/errors.ts";
import type { ActorRef } from "../actors/types.ts";
import type {
  ClusterIndexes,
  DroppedIndex,
  Executor,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  Operation,
  RoutingDecision,
  WriteResult,
} from "../node/executor.ts";
import { MalformedFrameError } from "./errors.ts";
import { NodeUnavailableError, QuorumNotReachedError } from "../node/errors.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { gatherPages, type PageSet, type SearchPages, type ShardQuery } from "../query/pipeline.ts";
import { checkedStatsPages } from "./stats_schema.ts";
import type { SearchRequest } from "../query/request.ts";
import type { SearchLimits } from "../query/search.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import { fieldDeclarations } from "../storage/schema.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";
import type { NodeBreaker } from "./node_breaker.ts";
import { HashRing } from "./ring.ts";
import { type ClusterView, ownerOfSlot, reachable } from "./view.ts";
import { placementKey } from "../node/write_command.ts";
import { CLUSTER_SLOTS, SLOT_FIELD, slotOf } from "../storage/slot.ts";
import type { Plan } from "../storage/search_index.ts";
import { encodeStamp } from "../storage/hlc.ts";
import { within } from "./within.ts";
import type { HintStore } from "./hints.ts";
import { AntiEntropy, DEFAULT_ANTI_ENTROPY_INTERVAL_MS } from "./anti_entropy.ts";

/** Settings of remote execution (from `[search]` and `[network]`). */
export interface ClusterExecutorSettings {
  /** Time a remote node has to answer one operation of a broadcast, in ms. */
  readonly broadcastTimeoutMs: number;
  /** Time an owner node has to answer a write or point read, in ms. */
  readonly requestTimeoutMs: number;
  /** Extra attempts when the link to the owner broke before it answered. */
  readonly retryAttempts: number;
  /** Remote requests of one broadcast in flight at once. */
  readonly fanoutLimit: number;
  /** Limits of searches compiled here. */
  readonly limits?: SearchLimits;
  /** Time an owner has for a bulk of writes, in ms (point operations: `requestTimeoutMs`). */
  readonly bulkTimeoutMs?: number;
  /** Refuses calls to suspect or down nodes and caps calls in flight per node. */
  readonly breaker?: NodeBreaker;
  /** Documents (and tombstones) per page of a moving slot's stream; 500 by default. */
  readonly movePageDocs?: number;
  /** Owners per slot (`network.cluster.replication_factor`); 1 by default. */
  readonly replicationFactor?: number;
  /** Replicas a write must reach (`write_quorum`); 0 or absent: a majority of the owners. */
  readonly writeQuorum?: number;
  /** Replicas a point read asks (`read_quorum`); 1 by default. */
  readonly readQuorum?: number;
  /** Where copies a replica missed are kept until it is back (hinted handoff). */
  readonly hints?: HintStore;
  /** Wait between two anti-entropy rounds (`anti_entropy_interval_ms`), in ms; 0: none. */
  readonly antiEntropyIntervalMs?: number;
}

/**
 * Which node answers each slot in one search: `owners[slot]` indexes `nodes` (about 1 KiB on
 * the wire, sent with every shard-pages request of a cluster search).
 */
export interface SlotAssignment {
  readonly nodes: readonly string[];
  readonly owners: readonly number[];
}

/** Default documents per page of a moving slot's stream. */
export const DEFAULT_MOVE_PAGE_DOCS = 500;

/** Wait before replaying hints again after a replay failed, in ms. */
const HINT_RETRY_MS = 1_000;

/** The stamp of a document stored before stamps were: older than every stamped write. */
const UNSTAMPED = encodeStamp({ ms: 0, counter: 0, tag: "" });

/** The dual writes of one moving slot: those in flight, and whether one failed. */
interface DualWrites {
  readonly inFlight: Set<Promise<unknown>>;
  failed: boolean;
}

/** Counters for `/_metrics`. */
export type ClusterExecutorStats = {
  remote_requests: number;
  remote_retries: number;
  remote_failures: number;
  broadcasts: number;
  broadcast_node_failures: number;
  /** First-phase statistics from other nodes refused (`stats_schema.ts`). */
  refused_peer_stats: number;
};

/** Finds the node service of a node (a cached remote ref). */
export type ServiceLookup = (
  node: string,
) => Promise<ActorRef<NodeServiceMsg, NodeServiceReplies>>;

/** The result of gathering one operation from every node. */
export interface Gathered<T> {
  readonly results: Array<{ node: string; value: T }>;
  readonly failed: Array<{ node: string; error: Error }>;
  /** Nodes asked (this one included when it was asked). */
  readonly contacted: number;
}

/** The view of a node before the coordinator has met anyone: itself alone. */
export function soloView(self: string, shardCount: number): ClusterView {
  const info = {
    nodeId: self,
    name: self,
    clusterName: "",
    peerId: "",
    addrs: [],
    http: "",
    shardCount,
  };
  return {
    self,
    members: new Map([[self, { info, connected: true }]]),
    ring: new HashRing([self]),
  };
}

/** The decision for one operation by a view (every node computes the same owners). */
export function decideInView(op: Operation, view: ClusterView): RoutingDecision {
  switch (op.type) {
    case "write": {
      const owners = new Set(
        op.commands.map((command) => ownerOfSlot(view, slotOf(placementKey(command)))),
      );
      owners.delete(view.self);
      return owners.size === 0 ? { kind: "local" } : { kind: "remote", nodes: [...owners] };
    }
    case "get": {
      const owner = ownerOfSlot(view, slotOf(op.routingKey ?? op.id));
      return owner === view.self ? { kind: "local" } : { kind: "remote", nodes: [owner] };
    }
    case "indexes":
      return { kind: "local" };
    case "search":
    case "searchPages":
    case "configure":
    case "dropIndex":
    case "clusterIndexes":
      return { kind: "broadcast", nodes: reachable(view) };
  }
}

/** {@linkcode Executor} of a node in a cluster. */
export class ClusterExecutor implements Executor {
  readonly counters: ClusterExecutorStats = {
    remote_requests: 0,
    remote_retries: 0,
    remote_failures: 0,
    broadcasts: 0,
    broadcast_node_failures: 0,
    refused_peer_stats: 0,
  };
  readonly #lookup: ServiceLookup;
  readonly #settings: ClusterExecutorSettings;
  readonly #node: NodeOrchestrator;
  #view: ClusterView;
  /** Slots whose stream has ended: their requests go to the receiver (see `fenceSlot`). */
  readonly #fenced = new Map<number, string>();
  readonly #dual = new Map<number, DualWrites>();
  /** Local writes not yet answered, per slot (see `#writeOwned`). */
  readonly #localWrites = new Map<number, Set<Promise<unknown>>>();
  /** Slots streamed away from here whose copy is not dropped yet (searches leave them out). */
  readonly #movedAway = new Set<number>();
  /** Slots another node copied documents of to here (a move to here, maybe not finished). */
  readonly #received = new Set<number>();
  /** The next replay of hints after a failed one, if one is scheduled. */
  #replayTimer: ReturnType<typeof setTimeout> | undefined;
  /** Searches coordinated here: which live owner of a replicated slot answers it turns. */
  #searches = 0;
  /** Compares this node's replicated slots with their other owners (`start()` it). */
  readonly antiEntropy: AntiEntropy;

  constructor(
    node: NodeOrchestrator,
    lookup: ServiceLookup,
    options: ClusterExecutorSettings & { readonly view: ClusterView },
  ) {
    this.#node = node;
    this.#lookup = lookup;
    this.#settings = options;
    this.#view = options.view;
    this.antiEntropy = new AntiEntropy({
      node,
      view: () => this.#view,
      ask: (to, msg) => this.unicast(this.#view, to, msg, this.#settings.broadcastTimeoutMs),
      // Fenced: its stream has ended, the flip comes next (a slot draining here, `#movedAway`,
      // has no owner here any more; that set stays on a lead that streamed to a new replica).
      moving: (slot) => this.#fenced.has(slot),
      intervalMs: (options.replicationFactor ?? 1) > 1
        ? options.antiEntropyIntervalMs ?? DEFAULT_ANTI_ENTROPY_INTERVAL_MS
        : 0,
    });
  }

  /** Called with each member that has just become connected (to bring it up to date). */
  onMemberConnected: (node: string) => void = () => {};

  /** The view operations route by from now on (the coordinator calls it on every change). */
  setView(view: ClusterView): void {
    const before = this.#view;
    this.#view = view;
    for (const [slot, to] of this.#fenced) {
      // Flipped: the receiver is an owner now (the owner, with one replica).
      if (view.slots?.entry(slot).owners.includes(to) === true) {
        this.#fenced.delete(slot);
        this.#dual.delete(slot);
      }
    }
    for (const [node, member] of view.members) {
      if (node === view.self || !member.connected) continue;
      if (before.members.get(node)?.connected !== true) this.onMemberConnected(node);
    }
    this.#replayHints(view);
  }

  /** Sends `msg` to every other connected node (within the broadcast timeout). */
  spread<T extends NodeServiceMsg>(msg: T): Promise<Gathered<NodeServiceReplies[T["type"]]>> {
    const view = this.#view;
    return this.gather(
      view,
      (node) => this.unicast(view, node, msg, this.#settings.broadcastTimeoutMs),
      { local: false },
    );
  }

  /** Sends `msg` to one node (within the broadcast timeout). */
  sendTo<T extends NodeServiceMsg>(node: string, msg: T): Promise<NodeServiceReplies[T["type"]]> {
    return this.unicast(this.#view, node, msg, this.#settings.broadcastTimeoutMs);
  }

  decide(op: Operation): RoutingDecision {
    return decideInView(op, this.#view);
  }

  stats(): Readonly<Record<string, number>> {
    return {
      ...this.counters,
      ...this.#settings.breaker?.stats,
      ...this.#settings.hints?.counters,
      ...this.antiEntropy.counters,
    };
  }

  /** Asks a remote node's service; retries while the link breaks under the request. */
  async unicast<T extends NodeServiceMsg>(
    view: ClusterView,
    node: string,
    msg: T,
    timeoutMs = this.#settings.requestTimeoutMs,
  ): Promise<NodeServiceReplies[T["type"]]> {
    for (let attempt = 0;; attempt++) {
      const member = view.members.get(node);
      if (member?.connected !== true) {
        this.counters.remote_failures++;
        throw new NodeUnavailableError(node, "not connected", member?.info.name);
      }
      // Fail fast on a sick node; at most `max_in_flight_per_node` calls wait on one node.
      let release: () => void;
      try {
        release = this.#settings.breaker?.enter(view, node) ?? (() => {});
      } catch (error) {
        this.counters.remote_failures++;
        throw error;
      }
      this.counters.remote_requests++;
      try {
        const service = await this.#lookup(node);
        return await service.ask(msg, { timeoutMs });
      } catch (error) {
        if (error instanceof NodeUnavailableError && attempt < this.#settings.retryAttempts) {
          this.counters.remote_retries++;
          continue;
        }
        this.counters.remote_failures++;
        throw error;
      } finally {
        release();
      }
    }
  }

  /**
   * Runs `work` on every reachable node (this one too unless `local` is false), at most
   * `fanoutLimit` remote requests at once, each within the broadcast timeout.
   */
  async gather<T>(
    view: ClusterView,
    work: (node: string) => Promise<T>,
    options: { local?: boolean } = {},
  ): Promise<Gathered<T>> {
    this.counters.broadcasts++;
    const targets = reachable(view).filter((node) => options.local !== false || node !== view.self);
    const results: Array<{ node: string; value: T }> = [];
    const failed = unreachable(view);
    const timeoutMs = this.#settings.broadcastTimeoutMs;
    let next = 0;
    const lane = async () => {
      while (next < targets.length) {
        const node = targets[next++]!;
        const late = () => new NodeUnavailableError(node, `no answer within ${timeoutMs} ms`);
        try {
          results.push({ node, value: await within(work(node), timeoutMs, late) });
        } catch (error) {
          failed.push({ node, error: error as Error });
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#settings.fanoutLimit, targets.length) }, lane),
    );
    this.counters.broadcast_node_failures += failed.length;
    return { results, failed, contacted: targets.length };
  }

  /** Asks every other reachable node to adopt schema changes (within the broadcast timeout). */
  async #spreadSchemas(view: ClusterView, changed: ReturnType<NodeOrchestrator["schemaList"]>) {
    if (changed.length === 0) return;
    await this.gather(
      view,
      (node) =>
        this.unicast(
          view,
          node,
          { type: "adoptSchemas", schemas: changed },
          this.#settings.broadcastTimeoutMs,
        ),
      { local: false },
    );
  }

  /** Writes a batch: new fields reach every node first, then each owner gets its writes. */
  async write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    await this.#spreadSchemas(this.#view, this.#node.planSchemas(commands));
    // The view after the schemas spread: a move may have started meanwhile.
    return await this.#route(this.#view, commands, { hops: 0, ingress: true });
  }

  /**
   * Writes another node sent here (`hops`: how often they were forwarded already): those of
   * slots served here run here; the others go to their owner once (a stale caller's), and a
   * second forward fails with 503 (the table is changing: retry), so nothing loops.
   */
  serveWrite(commands: readonly WriteCommand[], hops: number): Promise<WriteResult[]> {
    return this.#route(this.#view, commands, { hops, ingress: false });
  }

  /** The node that serves a slot here, for a request forwarded `hops` times. */
  #ownerFor(view: ClusterView, slot: number, hops: number): string {
    const fenced = this.#fenced.get(slot);
    if (fenced !== undefined) return fenced;
    // Forwarded by the owner to its slot's receiver: the owner has fenced it (it flips next).
    if (hops > 0 && view.slots?.entry(slot).pending === view.self) return view.self;
    return ownerOfSlot(view, slot);
  }

  /**
   * The replica that coordinates a write of a slot (Dynamo §4.5: any node of the preference
   * list coordinates, usually the first healthy one): this node when it is an owner, else the
   * first live owner. With one owner, the owner (as before replication).
   */
  #writerFor(
    view: ClusterView,
    slot: number,
    hops: number,
    tried: ReadonlySet<string> = new Set(),
  ): string {
    const owners = view.slots?.entry(slot).owners ?? [];
    if (owners.length <= 1 || this.#fenced.has(slot)) return this.#ownerFor(view, slot, hops);
    if (owners.includes(view.self)) return view.self;
    const left = owners.filter((node) => !tried.has(node));
    return left.find((node) => isLive(view, node)) ?? left[0] ?? owners[0]!;
  }

  /** Whether a write group that `owner` failed with `error` has another owner to try. */
  #canRetryElsewhere(
    view: ClusterView,
    batch: readonly WriteCommand[],
    owner: string,
    tried: ReadonlySet<string>,
    error: unknown,
  ): boolean {
    const name = (error as Error | undefined)?.name;
    if (name !== "NodeUnavailableError" && name !== "AskTimeoutError") return false;
    return batch.every((command) => {
      const owners = view.slots?.entry(slotOf(placementKey(command))).owners ?? [];
      return owners.some((node) => node !== owner && !tried.has(node));
    }) && owner !== view.self;
  }

  /** Replicas that must take a write of a slot with `owners` replicas. */
  #quorumOf(owners: number): number {
    const asked = this.#settings.writeQuorum ?? 0;
    return asked > 0 ? Math.min(asked, owners) : Math.floor(owners / 2) + 1;
  }

  async #route(
    view: ClusterView,
    commands: readonly WriteCommand[],
    how: { readonly hops: number; readonly ingress: boolean },
    tried: ReadonlySet<string> = new Set(),
  ): Promise<WriteResult[]> {
    const groups = new Map<string, number[]>();
    commands.forEach((command, i) => {
      const owner = this.#writerFor(view, slotOf(placementKey(command)), how.hops, tried);
      const list = groups.get(owner);
      if (list === undefined) groups.set(owner, [i]);
      else list.push(i);
    });
    const outcomes: WriteResult[] = new Array(commands.length);
    await Promise.all([...groups].map(async ([owner, positions]) => {
      const batch = positions.map((i) => commands[i]!);
      try {
        if (owner !== view.self && !how.ingress && how.hops > 0) {
          throw new NodeUnavailableError(owner, "its slots are changing owner; retry");
        }
        const results = owner === view.self ? await this.#writeOwned(view, batch) : await this
          .unicast(
            view,
            owner,
            { type: "write", commands: batch, hops: how.ingress ? 0 : how.hops + 1 },
            // A bulk gets the bulk deadline, a single write the point one.
            batch.length > 1 ? this.#settings.bulkTimeoutMs : undefined,
          );
        positions.forEach((i, k) => (outcomes[i] = results[k]!));
      } catch (error) {
        if (how.ingress && this.#canRetryElsewhere(view, batch, owner, tried, error)) {
          // The replica picked to coordinate did not answer: another owner coordinates.
          const again = await this.#route(view, batch, how, new Set([...tried, owner]));
          positions.forEach((i, k) => (outcomes[i] = again[k]!));
          return;
        }
        for (const i of positions) {
          outcomes[i] = { ok: false, id: commands[i]!.id, error: serializeError(error) };
        }
      }
    }));
    return outcomes;
  }

  /**
   * Writes commands of slots served here. A slot being moved gets a dual write: applied here,
   * then copied (with this node's stamp and version) to its receiver before the answer; a
   * copy that fails makes the move start again (see `fenceSlot`). A slot with several owners
   * is replicated the same way: applied here, copied to every other owner, and acknowledged
   * once `write_quorum` replicas (this one included) hold it — fewer answer
   * `QuorumNotReachedError` (503: it may be present on some replicas).
   */
  #writeOwned(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const run = this.#writeOwnedNow(view, batch);
    // Every local write is in flight for its slots until it is answered: a move that starts
    // meanwhile waits for it before its snapshot (it was decided without the dual write).
    for (const slot of new Set(batch.map((command) => slotOf(placementKey(command))))) {
      let writes = this.#localWrites.get(slot);
      if (writes === undefined) this.#localWrites.set(slot, writes = new Set());
      writes.add(run);
      run.finally(() => {
        writes.delete(run);
        if (writes.size === 0 && this.#localWrites.get(slot) === writes) {
          this.#localWrites.delete(slot);
        }
      }).catch(() => {});
    }
    return run;
  }

  #writeOwnedNow(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const targets = new Map<string, number[]>();
    const slots = new Set<number>();
    const owners: number[] = new Array(batch.length).fill(1);
    batch.forEach((command, k) => {
      const slot = slotOf(placementKey(command));
      const entry = view.slots?.entry(slot);
      const replicas = (entry?.owners ?? []).filter((node) => node !== view.self);
      owners[k] = replicas.length + 1;
      const to = entry?.pending;
      const moving = to !== undefined && to !== view.self && !this.#fenced.has(slot);
      if (moving) slots.add(slot);
      for (const node of moving ? [...replicas, to] : replicas) {
        const list = targets.get(node);
        if (list === undefined) targets.set(node, [k]);
        else list.push(k);
      }
    });
    if (targets.size === 0) return this.#node.write(batch);
    const duals = [...slots].map((slot) => this.#dualOf(slot));
    const replicated = owners.some((n) => n > 1);
    const run = this.#node.write(batch, { withStamps: true }).then(async (results) => {
      const acks = results.map((result) => (result.ok ? 1 : 0));
      const deletedElsewhere = new Map<number, number>();
      await Promise.all([...targets].map(async ([to, positions]) => {
        const copyFor = (k: number) =>
          copyOf(batch[k]!, results[k]!, {
            replica: view.slots?.entry(slotOf(placementKey(batch[k]!))).owners.includes(to) ===
              true,
          });
        const sent = positions.filter((k) => copyFor(k).length > 0);
        const copies = sent.flatMap(copyFor);
        if (copies.length === 0) return;
        // Only stamped copies are hinted: a plain delete replayed late would win over newer puts.
        const hintable = (list: readonly WriteCommand[]) =>
          list.filter((c) => c.stamp !== undefined);
        // A copy to a moving slot's receiver that fails restarts its move.
        const pending = sent.some((k) =>
          view.slots?.entry(slotOf(placementKey(batch[k]!))).pending === to
        );
        try {
          const answers = await this.unicast(view, to, { type: "copy", commands: copies });
          answers.forEach((answer, j) => {
            if (!answer.ok) return;
            acks[sent[j]!]!++;
            if (answer.result === "deleted") deletedElsewhere.set(sent[j]!, answer.version);
          });
          if (answers.some((answer) => !answer.ok)) {
            if (pending) throw new Error("refused");
            await this.#hint(to, hintable(copies.filter((_, j) => answers[j]?.ok !== true)));
          }
        } catch {
          if (pending) { for (const dual of duals) dual.failed = true; }
          else await this.#hint(to, hintable(copies));
        }
      }));
      return results.map((result, k) => {
        if (!replicated) return withoutStamp(result);
        const version = deletedElsewhere.get(k);
        // Not here, but deleted on another replica (this one had missed the document).
        const answer: WriteResult = result.ok && result.result === "not_found" &&
            version !== undefined
          ? { ...result, result: "deleted", version }
          : result;
        return this.#acknowledged(answer, acks[k]!, owners[k]!);
      });
    });
    for (const dual of duals) {
      dual.inFlight.add(run);
      run.finally(() => dual.inFlight.delete(run)).catch(() => {});
    }
    return run;
  }

  /** Keeps copies a replica missed, to replay when it is back (never fails the write). */
  async #hint(node: string, copies: readonly WriteCommand[]): Promise<void> {
    await this.#settings.hints?.add(node, copies).catch(() => {});
  }

  /** Replays the hints kept for every live member that has some (one replay at a time each). */
  #replayHints(view: ClusterView): void {
    const hints = this.#settings.hints;
    if (hints === undefined) return;
    for (const node of view.members.keys()) {
      if (node === view.self || !hints.has(node) || !isLive(view, node)) continue;
      hints.replay(node, async (to, copies) => {
        const answers = await this.unicast(this.#view, to, { type: "copy", commands: copies });
        if (answers.some((answer) => !answer.ok)) throw new Error(`${to} refused a hint`);
      }).catch(() => this.#replayLater());
    }
  }

  /** A replay failed (the node is not quite back): tried again after `HINT_RETRY_MS`. */
  #replayLater(): void {
    if (this.#replayTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#replayTimer = undefined;
      this.#replayHints(this.#view);
    }, HINT_RETRY_MS);
    Deno.unrefTimer(timer);
    this.#replayTimer = timer;
  }

  /** A replicated write's answer: how many replicas took it, or 503 below the quorum. */
  #acknowledged(result: WriteResult, acks: number, owners: number): WriteResult {
    if (!result.ok) return result;
    // A write that changed nothing (a delete of a missing document) needs no quorum.
    if (result.stamp === undefined) return { ...result, replicas_acknowledged: acks };
    const quorum = this.#quorumOf(owners);
    if (acks >= quorum) return { ...withoutStamp(result), replicas_acknowledged: acks };
    const error = new QuorumNotReachedError(
      `Cannot acknowledge the write of "${result.id}": ${acks} of ${owners} replicas took it, ` +
        `the write quorum is ${quorum}; it may be present on the replicas that took it`,
    );
    return { ok: false, id: result.id, error: serializeError(error) };
  }

  #dualOf(slot: number): DualWrites {
    let dual = this.#dual.get(slot);
    if (dual === undefined) this.#dual.set(slot, dual = { inFlight: new Set(), failed: false });
    return dual;
  }

  /**
   * Streams one slot to its receiver `to` (its tombstones, then its documents, page by page
   * from every local shard; the receiver applies each put-if-newer), then fences it: new
   * requests for it go to `to`, and the dual writes in flight are awaited. Resolves with the
   * documents streamed; rejects when the stream or a dual write failed (the caller aborts).
   */
  async streamSlot(slot: number, to: string): Promise<number> {
    this.#dual.set(slot, { inFlight: new Set(), failed: false });
    // Writes decided before the slot was pending (no dual write) land before the snapshot.
    await Promise.allSettled([...this.#localWrites.get(slot) ?? []]);
    const pageDocs = this.#settings.movePageDocs ?? DEFAULT_MOVE_PAGE_DOCS;
    let documents = 0;
    const send = async (commands: WriteCommand[]) => {
      if (commands.length === 0) return;
      const answers = await this.unicast(
        this.#view,
        to,
        { type: "copy", commands },
        this.#settings.bulkTimeoutMs,
      );
      const refused = answers.find((answer) => !answer.ok);
      if (refused !== undefined && !refused.ok) {
        throw new Error(`${to} refused a copy of "${refused.id}": ${refused.error.message}`);
      }
    };
    for (const { index } of this.#node.schemaList()) {
      for (let shard = 0; shard < this.#node.shardCount; shard++) {
        let after: string | undefined;
        do {
          const page = await this.#node.slotTombstones(index, slot, {
            shard,
            limit: pageDocs,
            ...(after === undefined ? {} : { afterId: after }),
          });
          await send(page.tombstones.map((t) => ({
            op: "delete",
            index,
            id: t.id,
            stamp: t.stamp,
            version: t.version,
            ...(t.routingKey === undefined ? {} : { routingKey: t.routingKey }),
          })));
          after = page.next;
        } while (after !== undefined);
        do {
          const page = await this.#node.slotPage(index, slot, {
            shard,
            limit: pageDocs,
            ...(after === undefined ? {} : { afterId: after }),
          });
          await send(page.documents.map((d) => ({
            op: "put",
            index,
            id: d.id,
            doc: d.doc,
            stamp: d.stamp ?? UNSTAMPED,
            version: d.version,
            ...(d.routingKey === undefined ? {} : { routingKey: d.routingKey }),
          })));
          documents += page.documents.length;
          after = page.next;
        } while (after !== undefined);
      }
    }
    if (!await this.fenceSlot(slot, to)) {
      throw new Error(`a write to slot ${slot} could not be copied to ${to}`);
    }
    this.#movedAway.add(slot);
    return documents;
  }

  /**
   * Routes a slot's requests to its receiver from now on and waits for the dual writes in
   * flight; resolves with whether every dual write since the move began reached it.
   */
  async fenceSlot(slot: number, to: string): Promise<boolean> {
    this.#fenced.set(slot, to);
    const dual = this.#dualOf(slot);
    await Promise.allSettled([...dual.inFlight]);
    return !dual.failed;
  }

  /**
   * Copies of another node's writes arrived (a slot moving here): their slots are left out
   * of searches until the coordinator of a search assigns them here.
   */
  noteCopies(commands: readonly WriteCommand[]): void {
    for (const command of commands) this.#received.add(slotOf(placementKey(command)));
  }

  /** An aborted move: the slot's requests are served here again. */
  abortMove(slot: number): void {
    this.#fenced.delete(slot);
    this.#dual.delete(slot);
    this.#movedAway.delete(slot);
  }

  /**
   * This node is no longer a replica of a slot (its lead dropped it from the owners): its
   * copy is left out of searches until it is dropped.
   */
  leaveSlot(slot: number): void {
    this.#movedAway.add(slot);
  }

  /** Drops this node's copy of a slot that moved away (every index, every shard). */
  async dropSlot(slot: number): Promise<void> {
    for (const { index } of this.#node.schemaList()) {
      await this.#node.dropSlot(index, slot).catch((error) => {
        if (!(error instanceof IndexNotFoundError)) throw error;
      });
    }
    this.#movedAway.delete(slot);
  }

  /** Reads a document from its owner. */
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    return this.serveGet({ index, id, ...(routingKey === undefined ? {} : { routingKey }) }, -1);
  }

  /**
   * A point read: here when the slot is served here, else from its owner (`hops` -1 at the
   * ingress; a read forwarded once already fails with 503 rather than loop).
   */
  serveGet(
    read: { readonly index: string; readonly id: string; readonly routingKey?: string },
    hops: number,
  ): Promise<StoredDocument | null> {
    const view = this.#view;
    const { index, id, routingKey } = read;
    const slot = slotOf(routingKey ?? id);
    const owners = view.slots?.entry(slot).owners ?? [];
    if (owners.length > 1 && !this.#fenced.has(slot)) {
      if (hops >= 0 && owners.includes(view.self)) return this.#node.get(index, id, routingKey);
      if (hops >= 1) {
        return Promise.reject(
          new NodeUnavailableError(owners[0]!, "its slots are changing; retry"),
        );
      }
      return this.#readReplicas(view, read, owners);
    }
    const owner = this.#ownerFor(view, slot, Math.max(hops, 0));
    if (owner === view.self) return this.#node.get(index, id, routingKey);
    if (hops >= 1) {
      return Promise.reject(
        new NodeUnavailableError(owner, "its slots are changing owner; retry"),
      );
    }
    return this.unicast(view, owner, {
      type: "get",
      index,
      id,
      hops: hops + 1,
      ...(routingKey === undefined ? {} : { routingKey }),
    });
  }

  /**
   * A point read of a replicated slot: `read_quorum` owners, live ones first (this node first
   * when it is one); an owner that fails is replaced by the next, so the slot stays readable
   * while any owner lives. Of the answers, the one of the highest version wins.
   */
  async #readReplicas(
    view: ClusterView,
    read: { readonly index: string; readonly id: string; readonly routingKey?: string },
    owners: readonly string[],
  ): Promise<StoredDocument | null> {
    const { index, id, routingKey } = read;
    const order = [
      ...owners.filter((node) => node === view.self),
      ...owners.filter((node) => node !== view.self && isLive(view, node)),
      ...owners.filter((node) => node !== view.self && !isLive(view, node)),
    ];
    const wanted = Math.min(Math.max(this.#settings.readQuorum ?? 1, 1), order.length);
    const answers: Array<StoredDocument | null> = [];
    let lastError: unknown;
    let next = 0;
    const lane = async () => {
      while (answers.length < wanted && next < order.length) {
        const node = order[next++]!;
        try {
          answers.push(
            node === view.self ? await this.#node.get(index, id, routingKey) : await this.unicast(
              view,
              node,
              {
                type: "get",
                index,
                id,
                hops: 1,
                ...(routingKey === undefined ? {} : { routingKey }),
              },
            ),
          );
        } catch (error) {
          lastError = error;
        }
      }
    };
    await Promise.all(Array.from({ length: wanted }, lane));
    if (answers.length < wanted) throw lastError;
    return answers.reduce<StoredDocument | null>(
      (best, doc) => (doc !== null && (best === null || doc.version > best.version) ? doc : best),
      null,
    );
  }

  /** Compiles here (the index must be known here), then gathers every node's shard pages. */
  searchPages(index: string, request: SearchRequest): Promise<SearchPages> {
    const entry = this.#node.schema(index);
    if (entry === undefined) return Promise.reject(new IndexNotFoundError(index));
    const view = this.#view;
    // Nodes whose statistics are not in this search's sums (refused, or not answered): not
    // asked to score with them, so no node's scores are skewed; the answer counts them failed.
    const excluded = new Map<string, Error>();
    // One assignment for both phases of a search: its statistics and its pages cover alike.
    const assignment = this.#assignmentOf(view);
    return gatherPages(
      (query) => this.#pagesEverywhere(view, query, excluded, assignment),
      index,
      request,
      {
        schema: entry.schema,
        limits: this.#settings.limits ?? {},
        ...(entry.ranking === undefined ? {} : { ranking: entry.ranking }),
      },
    );
  }

  async #pagesEverywhere(
    view: ClusterView,
    query: ShardQuery,
    excluded: Map<string, Error>,
    assignment: SlotAssignment,
  ): Promise<PageSet> {
    const gathered = await this.gather(view, (node) => {
      const reason = excluded.get(node);
      if (reason !== undefined) return Promise.reject(reason);
      if (node === view.self) return this.servePages(query, assignment);
      return this.unicast(
        view,
        node,
        { type: "shardPages", query, assignment },
        this.#settings.broadcastTimeoutMs,
      )
        .then((set) => query.phase === "stats" ? this.#checkedStats(set, node) : set);
    });
    if (query.phase === "stats") {
      for (const { node, error } of gathered.failed) {
        excluded.set(
          node,
          error instanceof MalformedFrameError
            ? error
            : new NodeUnavailableError(node, "its statistics are not in this search's sums"),
        );
      }
    }
    const pages = gathered.results.flatMap(({ value }) => value.pages);
    let totalShards = gathered.results.reduce((sum, { value }) => sum + value.totalShards, 0);
    let failedShards = 0;
    // With replicas, a node that answers no slot of this search (a live replica answers them
    // all) is no failure: only a slot none of whose owners lives is.
    const assigned = new Set(assignment.owners.map((at) => assignment.nodes[at]!));
    const failed = (this.#settings.replicationFactor ?? 1) > 1
      ? gathered.failed.filter(({ node }) => assigned.has(node))
      : gathered.failed;
    for (const { node } of failed) {
      const shards = view.members.get(node)?.info.shardCount ?? 0;
      failedShards += shards;
      totalShards += shards;
    }
    return {
      pages,
      totalShards,
      failedShards,
      nodesContacted: gathered.contacted,
      nodesFailed: failed.length,
    };
  }

  /**
   * Another node's statistics, checked before they are added up: nonsense is refused and
   * counted, never summed into the scores; the node is not asked to score (its shards count
   * as failed in the answer).
   */
  #checkedStats(set: PageSet, node: string): PageSet {
    try {
      return checkedStatsPages(set, node);
    } catch (error) {
      this.counters.refused_peer_stats++;
      throw error;
    }
  }

  /**
   * Which node answers each slot in a search coordinated here: the slot's owner by this
   * node's table (fences included), so every slot is answered by exactly one node.
   */
  #assignmentOf(view: ClusterView): SlotAssignment {
    const nodes: string[] = [];
    const index = new Map<string, number>();
    // Replicated slots rotate over their live owners from one search to the next.
    const turn = this.#searches++;
    const owners = Array.from({ length: CLUSTER_SLOTS }, (_, slot) => {
      const owner = this.#searcherFor(view, slot, turn);
      let at = index.get(owner);
      if (at === undefined) index.set(owner, at = nodes.push(owner) - 1);
      return at;
    });
    return { nodes, owners };
  }

  /** The node answering a slot in search number `turn`: one live owner, spread over nodes. */
  #searcherFor(view: ClusterView, slot: number, turn: number): string {
    const owners = view.slots?.entry(slot).owners ?? [];
    if (owners.length <= 1 || this.#fenced.has(slot)) return this.#ownerFor(view, slot, 0);
    const live = owners.filter((node) => isLive(view, node));
    if (live.length === 0) return owners[0]!;
    return live[(slot + turn) % live.length]!;
  }

  /**
   * This node's shard pages of a search another node coordinates (or this one): the slots
   * this node holds but the coordinator assigned to another node (a slot it is receiving, or
   * one it moved away and has not dropped yet) are left out in the engines, by the internal
   * `_slot` value every document is indexed with (`SLOT_FIELD`), so a moving slot is counted
   * once.
   */
  async servePages(query: ShardQuery, assignment?: SlotAssignment): Promise<PageSet> {
    const excluded = assignment === undefined ? [] : this.#excludedSlots(assignment);
    if (excluded.length === 0) return await this.#node.shardPages(query);
    const left: Plan = {
      kind: "or",
      children: excluded.map((slot): Plan => ({ kind: "eq", field: SLOT_FIELD, value: slot })),
    };
    const plan: Plan = { kind: "and", children: [query.plan, { kind: "not", child: left }] };
    return await this.#node.shardPages({ ...query, plan });
  }

  /** The slots this node may hold documents of that `assignment` gives to another node. */
  #excludedSlots(assignment: SlotAssignment): number[] {
    const view = this.#view;
    const excluded: number[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const assigned = assignment.nodes[assignment.owners[slot] ?? -1];
      if (assigned === view.self) continue;
      const entry = view.slots?.entry(slot);
      const held = this.#movedAway.has(slot) || this.#received.has(slot) ||
        entry?.pending === view.self || entry?.owners.includes(view.self) === true ||
        ownerOfSlot(view, slot) === view.self;
      if (held) excluded.push(slot);
    }
    return excluded;
  }

  /** Declares or extends a schema here (which validates it), then on every other node. */
  async configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    const view = this.#view;
    const result = await this.#node.configure(index, config);
    const fields = fieldDeclarations(result.schema);
    const description = config.description === undefined ? {} : { description: config.description };
    await this.gather(view, (node) =>
      this.unicast(view, node, {
        type: "configure",
        index,
        config: {
          fields,
          engine: result.engine,
          ...description,
          ...(config.ranking === undefined || result.ranking === undefined
            ? {}
            : { ranking: result.ranking }),
        },
      }, this.#settings.broadcastTimeoutMs), { local: false });
    return result;
  }

  /** Deletes an index on every reachable node. */
  async dropIndex(index: string): Promise<DroppedIndex> {
    const view = this.#view;
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.dropIndex(index).catch((error) => {
            if (!(error instanceof IndexNotFoundError)) throw error;
            return { deleted_from_shards: 0, total_shards: this.#node.shardCount };
          })
          : this.unicast(
            view,
            node,
            { type: "dropIndex", index },
            this.#settings.broadcastTimeoutMs,
          ),
    );
    const deleted = gathered.results.reduce((sum, r) => sum + r.value.deleted_from_shards, 0);
    if (deleted === 0 && gathered.failed.length === 0) throw new IndexNotFoundError(index);
    return {
      deleted_from_shards: deleted,
      total_shards: gathered.results.reduce((sum, r) => sum + r.value.total_shards, 0),
    };
  }

  indexes(): Promise<IndexSummary[]> {
    return this.#node.indexes();
  }

  /** Every node's indexes, merged by name. */
  async clusterIndexes(): Promise<ClusterIndexes> {
    const view = this.#view;
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.indexes()
          : this.unicast(view, node, { type: "indexes" }, this.#settings.broadcastTimeoutMs),
    );
    const indexes = mergeSummaries(gathered.results.map(({ value }) => value));
    return {
      indexes,
      total_indexes: indexes.length,
      nodes_contacted: gathered.contacted,
      nodes_failed: gathered.failed.length,
      failed_nodes: gathered.failed.map((f) => f.node),
    };
  }
}

/**
 * The copy of a write applied here, as its slot's receiver or another replica applies it (none
 * for no change).
 */
function copyOf(
  command: WriteCommand,
  result: WriteResult,
  options: { readonly replica?: boolean } = {},
): WriteCommand[] {
  const { index, id } = command;
  const placed = command.routingKey === undefined ? {} : { routingKey: command.routingKey };
  if (
    options.replica === true && command.op === "delete" && result.ok &&
    result.result === "not_found"
  ) {
    // This replica never had the document (it missed the put): the others may. A plain
    // delete, stamped where it is applied, so no replica keeps what was deleted here.
    return [{ op: "delete", index, id, ...placed }];
  }
  if (!result.ok || result.stamp === undefined || result.result === "unchanged") return [];
  const stamped = { stamp: result.stamp, version: result.version };
  return command.op === "put"
    ? [{ op: "put", index, id, doc: command.doc, ...placed, ...stamped }]
    : [{ op: "delete", index, id, ...placed, ...stamped }];
}

/** A result without the stamp it carried for the dual write. */
function withoutStamp(result: WriteResult): WriteResult {
  if (!result.ok || result.stamp === undefined) return result;
  const { stamp: _stamp, ...rest } = result;
  return rest;
}

/** Whether a member can answer now: connected, and not suspect or down. */
function isLive(view: ClusterView, node: string): boolean {
  if (node === view.self) return true;
  const member = view.members.get(node);
  return member?.connected === true && (member.state ?? "up") === "up";
}

/** Members known but not connected: failed at once, nothing waits for them. */
function unreachable(view: ClusterView): Array<{ node: string; error: Error }> {
  const failed: Array<{ node: string; error: Error }> = [];
  for (const [node, member] of view.members) {
    if (node !== view.self && !member.connected) {
      failed.push({
        node,
        error: new NodeUnavailableError(node, "not connected", member.info.name),
      });
    }
  }
  return failed;
}

/** Nodes' index lists merged by name (counts summed, fields united), sorted by name. */
function mergeSummaries(lists: ReadonlyArray<readonly IndexSummary[]>) {
  const byName = new Map<string, IndexSummary & { nodes: number }>();
  for (const summary of lists.flat()) {
    const entry = byName.get(summary.name);
    if (entry === undefined) {
      byName.set(summary.name, { ...summary, fields: [...summary.fields], nodes: 1 });
      continue;
    }
    entry.document_count += summary.document_count;
    entry.shard_count += summary.shard_count;
    entry.memory_bytes += summary.memory_bytes;
    entry.fields = [...new Set([...entry.fields, ...summary.fields])].sort();
    entry.field_count = entry.fields.length;
    entry.nodes++;
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
