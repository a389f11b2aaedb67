/**
 * The cluster's {@linkcode Executor}: it decides where an operation runs by the cluster view
 * (which the ClusterCoordinator hands it on every change) and runs it there. A facade over
 * its parts, one concept each: calls to other nodes (`remote_calls.ts`: unicast with retries
 * and a timeout, scatter-gather under `broadcast_timeout` with at most
 * `broadcast_fanout_limit` requests in flight), the per-slot state they share
 * (`slot_states.ts`), the write path (`replicated_writes.ts`), the replicated point read
 * (`replica_read.ts`) and the search by slot (`slot_search.ts`); the steps of a slot's move,
 * the point read's routing and the index operations are here.
 *
 * @module
 */

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
import { NodeUnavailableError } from "../node/errors.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import { placementKey, type WriteCommand } from "../node/write_command.ts";
import type { PageSet, SearchPages, ShardQuery } from "../query/pipeline.ts";
import type { SearchRequest } from "../query/request.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import {
  DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
  type StoredDocument,
} from "../storage/microshard.ts";
import { fieldDeclarations } from "../storage/schema.ts";
import { slotOf } from "../storage/slot.ts";
import {
  type ClusterExecutorSettings,
  type ClusterExecutorStats,
  DEFAULT_MOVE_PAGE_DOCS,
  type ServiceLookup,
  zeroStats,
} from "./executor_settings.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";
import { type Gathered, RemoteCalls } from "./remote_calls.ts";
import { type PointRead, type ReplicaRead, ReplicaReads } from "./replica_read.ts";
import { RebuildingSlots } from "./rebuilding.ts";
import { DEFAULT_MOVE_BYTES_PER_SEC, MoveThrottle } from "./move_throttle.ts";
import { ReplicatedWrites } from "./replicated_writes.ts";
import { HashRing } from "./ring.ts";
import { type SlotAssignment, SlotSearch } from "./slot_search.ts";
import { SlotStates } from "./slot_states.ts";
import { slotCopies } from "./slot_stream.ts";
import { type ClusterView, ownerOfSlot, reachable } from "./view.ts";
import { AntiEntropy, DEFAULT_ANTI_ENTROPY_INTERVAL_MS } from "./anti_entropy.ts";
import { TombstoneHorizons } from "./tombstone_horizons.ts";

export {
  type ClusterExecutorSettings,
  type ClusterExecutorStats,
  DEFAULT_MOVE_PAGE_DOCS,
  type Gathered,
  type ServiceLookup,
  type SlotAssignment,
};

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
  /** The counters of every part (one object: `/_metrics` shows them through `stats`). */
  readonly counters: ClusterExecutorStats = zeroStats();
  readonly #settings: ClusterExecutorSettings;
  readonly #node: NodeOrchestrator;
  readonly #calls: RemoteCalls;
  readonly #slots = new SlotStates();
  readonly #writes: ReplicatedWrites;
  readonly #reads: ReplicaReads;
  readonly #search: SlotSearch;
  #view: ClusterView;
  /** Compares this node's replicated slots with their other owners (`start()` it). */
  readonly antiEntropy: AntiEntropy;
  /** The slots this node is rebuilding after starting with an empty data directory. */
  readonly rebuilding: RebuildingSlots;
  /** The bound on streaming moving slots (`move_bytes_per_sec`), over all moves at once. */
  readonly #throttle: MoveThrottle;
  /** Per slot, when every replica last held this node's tombstones (sent to the shards). */
  readonly #horizons: TombstoneHorizons;

  constructor(
    node: NodeOrchestrator,
    lookup: ServiceLookup,
    options: ClusterExecutorSettings & { readonly view: ClusterView },
  ) {
    this.#node = node;
    this.#settings = options;
    this.#view = options.view;
    this.rebuilding = options.rebuilding ?? new RebuildingSlots();
    this.#throttle = new MoveThrottle(options.moveBytesPerSec ?? DEFAULT_MOVE_BYTES_PER_SEC);
    this.#horizons = new TombstoneHorizons({
      send: (horizons) => node.setTombstoneHorizons(horizons),
      sendIntervalMs: options.tombstoneCollectIntervalMs ?? DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
    });
    const parts = {
      node,
      settings: options,
      counters: this.counters,
      slots: this.#slots,
      currentView: () => this.#view,
      rebuilding: this.rebuilding,
    };
    this.#calls = new RemoteCalls(lookup, parts);
    this.#writes = new ReplicatedWrites({ ...parts, calls: this.#calls });
    this.#reads = new ReplicaReads({ ...parts, calls: this.#calls });
    this.#search = new SlotSearch({ ...parts, calls: this.#calls });
    this.antiEntropy = new AntiEntropy({
      node,
      view: () => this.#view,
      ask: (to, msg) => this.unicast(this.#view, to, msg, options.broadcastTimeoutMs),
      // Fenced: its stream has ended, the flip comes next (a slot draining here, `#movedAway`,
      // has no owner here any more; that set stays on a lead that streamed to a new replica).
      moving: (slot) => this.#slots.isFenced(slot),
      rebuilding: this.rebuilding,
      intervalMs: (options.replicationFactor ?? 1) > 1
        ? options.antiEntropyIntervalMs ?? DEFAULT_ANTI_ENTROPY_INTERVAL_MS
        : 0,
      onRepaired: (slot, startedAtMs, owners) => this.#horizons.record(slot, startedAtMs, owners),
      onSweep: () => void this.#horizons.sweepEnded(this.#view),
    });
  }

  /**
   * Notes every slot this node holds documents of (read from its shards at start), so a
   * search that does not assign such a slot here leaves this node's copy out — a move that
   * was aborted, or a copy moved away whose drop a restart interrupted, is not counted twice.
   */
  async noteHeldSlots(): Promise<void> {
    for (const { index } of this.#node.schemaList()) {
      this.#slots.noteHeld((await this.#node.slotCounts(index)).keys());
    }
  }

  /** Called with each member that has just become connected (to bring it up to date). */
  onMemberConnected: (node: string) => void = () => {};

  /** The view operations route by from now on (the coordinator calls it on every change). */
  setView(view: ClusterView): void {
    const before = this.#view;
    this.#view = view;
    this.#slots.settle(view);
    this.rebuilding.onView(view);
    for (const [node, member] of view.members) {
      if (node === view.self || !member.connected) continue;
      if (before.members.get(node)?.connected !== true) this.onMemberConnected(node);
    }
    this.#writes.replayHints(view);
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
      move_bytes_streamed: this.#throttle.bytes,
    };
  }

  /** Asks a remote node's service; retries while the link breaks under the request. */
  unicast<T extends NodeServiceMsg>(
    view: ClusterView,
    node: string,
    msg: T,
    timeoutMs?: number,
  ): Promise<NodeServiceReplies[T["type"]]> {
    return this.#calls.unicast(view, node, msg, timeoutMs);
  }

  /**
   * Runs `work` on every reachable node (this one too unless `local` is false), at most
   * `fanoutLimit` remote requests at once, each within the broadcast timeout.
   */
  gather<T>(
    view: ClusterView,
    work: (node: string) => Promise<T>,
    options: { local?: boolean } = {},
  ): Promise<Gathered<T>> {
    return this.#calls.gather(view, work, options);
  }

  /** Writes a batch: new fields reach every node first, then each owner gets its writes. */
  write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    return this.#writes.write(commands);
  }

  /**
   * Writes another node sent here (`hops`: how often they were forwarded already): those of
   * slots served here run here; the others go to their owner once (a stale caller's), and a
   * second forward fails with 503 (the table is changing: retry), so nothing loops.
   */
  serveWrite(commands: readonly WriteCommand[], hops: number): Promise<WriteResult[]> {
    return this.#writes.serve(commands, hops);
  }

  /**
   * Streams one slot to its receiver `to` (its tombstones, then its documents, page by page
   * from every local shard; the receiver applies each put-if-newer), then fences it: new
   * requests for it go to `to`, and the dual writes in flight are awaited. Resolves with the
   * documents streamed; rejects when the stream or a dual write failed (the caller aborts).
   */
  async streamSlot(slot: number, to: string): Promise<number> {
    // A partial copy must not become a whole replica elsewhere: the move waits (it is retried).
    if (this.rebuilding.has(slot)) throw new Error(`slot ${slot} is still being rebuilt here`);
    this.#slots.beginDual(slot);
    // Writes decided before the slot was pending (no dual write) land before the snapshot.
    await Promise.allSettled(this.#slots.localWritesOf(slot));
    const pageDocs = this.#settings.movePageDocs ?? DEFAULT_MOVE_PAGE_DOCS;
    let documents = 0;
    for await (const page of slotCopies(this.#node, slot, { pageDocs })) {
      await this.#throttle.take(copiesBytes(page.copies));
      await this.#sendCopies(to, page.copies);
      documents += page.documents;
    }
    if (!await this.fenceSlot(slot, to)) {
      throw new Error(`a write to slot ${slot} could not be copied to ${to}`);
    }
    this.#slots.markMovedAway(slot);
    return documents;
  }

  /** One page of a moving slot's stream to its receiver; a copy it refuses fails the move. */
  async #sendCopies(to: string, commands: WriteCommand[]): Promise<void> {
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
  }

  /**
   * Routes a slot's requests to its receiver from now on and waits for the dual writes in
   * flight; resolves with whether every dual write since the move began reached it.
   */
  fenceSlot(slot: number, to: string): Promise<boolean> {
    return this.#slots.fence(slot, to);
  }

  /**
   * Copies of another node's writes arrived (a slot moving here): their slots are left out
   * of searches until the coordinator of a search assigns them here.
   */
  noteCopies(commands: readonly WriteCommand[]): void {
    this.#slots.noteReceived(commands);
  }

  /** An aborted move: the slot's requests are served here again. */
  abortMove(slot: number): void {
    this.#slots.abort(slot);
  }

  /**
   * This node is no longer a replica of a slot (its lead dropped it from the owners): its
   * copy is left out of searches until it is dropped.
   */
  leaveSlot(slot: number): void {
    this.#slots.markMovedAway(slot);
  }

  /** Drops this node's copy of a slot that moved away (every index, every shard). */
  async dropSlot(slot: number): Promise<void> {
    for (const { index } of this.#node.schemaList()) {
      await this.#node.dropSlot(index, slot).catch((error) => {
        if (!(error instanceof IndexNotFoundError)) throw error;
      });
    }
    this.#slots.markDropped(slot);
  }

  /** Reads a document from its owner. */
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    return this.serveGet({ index, id, ...(routingKey === undefined ? {} : { routingKey }) }, -1);
  }

  /**
   * A point read: here when the slot is served here, else from its owner (`hops` -1 at the
   * ingress; a read forwarded once already fails with 503 rather than loop). A replicated
   * slot's read at the ingress asks `read_quorum` of its owners (`ReplicaReads`).
   */
  serveGet(read: PointRead, hops: number): Promise<StoredDocument | null> {
    const view = this.#view;
    const { index, id, routingKey } = read;
    const slot = slotOf(routingKey ?? id);
    const owners = view.slots?.entry(slot).owners ?? [];
    if (owners.length > 1 && !this.#slots.isFenced(slot)) {
      if (hops >= 0 && owners.includes(view.self)) {
        // A copy being rebuilt does not answer for the slot: the sender asks another owner.
        if (this.rebuilding.has(slot)) {
          return Promise.reject(new NodeUnavailableError(view.self, "it is rebuilding this slot"));
        }
        return this.#node.get(index, id, routingKey);
      }
      if (hops >= 1) {
        return Promise.reject(
          new NodeUnavailableError(owners[0]!, "its slots are changing; retry"),
        );
      }
      return this.#reads.read(view, read, owners);
    }
    const owner = this.#slots.ownerFor(view, slot, Math.max(hops, 0));
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

  /** Compiles here (the index must be known here), then gathers every node's shard pages. */
  searchPages(index: string, request: SearchRequest): Promise<SearchPages> {
    return this.#search.searchPages(index, request);
  }

  /** This node's stamped copy for another owner's read, marked while its slot is rebuilt. */
  async serveStamped(read: PointRead): Promise<ReplicaRead> {
    const held = await this.#node.getStamped(read.index, read.id, read.routingKey);
    const rebuilding = this.rebuilding.has(slotOf(read.routingKey ?? read.id));
    return rebuilding ? { ...held, rebuilding } : held;
  }

  /** This node's shard pages of a search, without the slots `assignment` gives to others. */
  servePages(query: ShardQuery, assignment?: SlotAssignment): Promise<PageSet> {
    return this.#search.servePages(query, assignment);
  }

  /** Declares or extends a schema here (which validates it), then on every other node. */
  async configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    const view = this.#view;
    const result = await this.#node.configure(index, config);
    this.#settings.indexDrops?.birthOf(index);
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
    // Every node that held the index keeps this marker, so a node away now cannot bring the
    // index back when it returns (`index_drops.ts`).
    const marker = { index, atMs: Date.now() };
    const drops = this.#settings.indexDrops;
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.dropIndex(index).then(async (dropped) => {
            await drops?.merge([marker], [index]);
            return dropped;
          }).catch((error) => {
            if (!(error instanceof IndexNotFoundError)) throw error;
            return { deleted_from_shards: 0, total_shards: this.#node.shardCount };
          })
          : this.unicast(
            view,
            node,
            {
              type: "dropIndex",
              index,
              ...(drops === undefined ? {} : { droppedAtMs: marker.atMs }),
            },
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

/** About how many bytes a page of copies takes on the wire (its documents as JSON). */
function copiesBytes(copies: readonly WriteCommand[]): number {
  let bytes = 0;
  for (const copy of copies) {
    bytes += copy.id.length + (copy.op === "put" ? JSON.stringify(copy.doc).length : 0);
  }
  return bytes;
}
