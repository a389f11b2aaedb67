/**
 * A search in a cluster, by slot: the node that coordinates it compiles it here and assigns
 * each of the 1,024 slots to exactly one node (its owner by this node's table, fences
 * included; a replicated slot to one live owner, rotating from one search to the next), then
 * gathers every node's shard pages for both phases under that one assignment; a node serving
 * pages leaves out, in its engines, the slots it holds but was not assigned, so nothing is
 * counted twice while a slot moves or has replicas. A node whose first-phase statistics are
 * nonsense or missing is not asked to score; its shards count as failed.
 *
 * @module
 */

import type { NodeOrchestrator } from "../node/orchestrator.ts";
import { NodeUnavailableError } from "../node/errors.ts";
import { gatherPages, type PageSet, type SearchPages, type ShardQuery } from "../query/pipeline.ts";
import type { SearchRequest } from "../query/request.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import type { Plan } from "../storage/search_index.ts";
import { CLUSTER_SLOTS, SLOT_FIELD } from "../storage/slot.ts";
import { MalformedFrameError } from "./errors.ts";
import type { ClusterExecutorSettings, ClusterExecutorStats } from "./executor_settings.ts";
import type { Gathered, RemoteCalls } from "./remote_calls.ts";
import type { RebuildingSlots } from "./rebuilding.ts";
import type { SlotStates } from "./slot_states.ts";
import { checkedStatsPages } from "./stats_schema.ts";
import { type ClusterView, isLive } from "./view.ts";

/**
 * Which node answers each slot in one search: `owners[slot]` indexes `nodes` (about 1 KiB on
 * the wire, sent with every shard-pages request of a cluster search).
 */
export interface SlotAssignment {
  readonly nodes: readonly string[];
  readonly owners: readonly number[];
}

/** What a cluster search works with. */
export interface SlotSearchDeps {
  readonly node: NodeOrchestrator;
  readonly calls: RemoteCalls;
  readonly slots: SlotStates;
  readonly settings: ClusterExecutorSettings;
  readonly counters: ClusterExecutorStats;
  /** The view searches run in now. */
  readonly currentView: () => ClusterView;
  /** The slots this node is rebuilding (its copy of them does not count yet). */
  readonly rebuilding?: RebuildingSlots;
}

/**
 * How long a node's word that it is rebuilding a slot is believed, in ms: meanwhile searches
 * coordinated here assign the slot to another owner; after it, the node is asked again.
 */
export const REBUILDING_SEEN_MS = 2_000;

/** Searches coordinated here, and this node's part of any node's search. */
export class SlotSearch {
  readonly #node: NodeOrchestrator;
  readonly #calls: RemoteCalls;
  readonly #slots: SlotStates;
  readonly #settings: ClusterExecutorSettings;
  readonly #counters: ClusterExecutorStats;
  readonly #view: () => ClusterView;
  /** Searches coordinated here: which live owner of a replicated slot answers it turns. */
  #searches = 0;
  readonly #rebuilding: RebuildingSlots | undefined;
  /** What other nodes said they are rebuilding, and when (see `REBUILDING_SEEN_MS`). */
  readonly #rebuildingSeen = new Map<string, { slots: Set<number>; atMs: number }>();

  constructor(deps: SlotSearchDeps) {
    this.#node = deps.node;
    this.#calls = deps.calls;
    this.#slots = deps.slots;
    this.#settings = deps.settings;
    this.#counters = deps.counters;
    this.#view = deps.currentView;
    this.#rebuilding = deps.rebuilding;
  }

  /** Compiles here (the index must be known here), then gathers every node's shard pages. */
  searchPages(index: string, request: SearchRequest): Promise<SearchPages> {
    const entry = this.#node.schema(index);
    if (entry === undefined) return Promise.reject(new IndexNotFoundError(index));
    const view = this.#view();
    // Nodes whose statistics are not in this search's sums (refused, or not answered): not
    // asked to score with them, so no node's scores are skewed; the answer counts them failed.
    const excluded = new Map<string, Error>();
    // One assignment for both phases of a search: its statistics and its pages cover alike
    // (changed only by the first phase, when a node it names is rebuilding a slot).
    const search = { assignment: this.#assignmentOf(view), phases: 0 };
    return gatherPages(
      (query) => this.#pagesEverywhere(view, query, excluded, search),
      index,
      request,
      {
        schema: entry.schema,
        limits: this.#settings.limits ?? {},
        ...(entry.ranking === undefined ? {} : { ranking: entry.ranking }),
      },
    );
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
    // Every slot this node is rebuilding, while it rebuilds any (the coordinator gives them to
    // other owners, and asks again when it had given it one; it believes the list for a while).
    const rebuilding = assignment === undefined ? [] : this.#rebuildingList();
    const unserved = assignment === undefined ? [] : this.#unservedOf(assignment);
    const said = {
      ...(rebuilding.length === 0 ? {} : { rebuildingSlots: rebuilding }),
      ...(unserved.length === 0 ? {} : { unservedSlots: unserved }),
    };
    if (excluded.length === 0) return { ...await this.#node.shardPages(query), ...said };
    const left: Plan = {
      kind: "or",
      children: excluded.map((slot): Plan => ({ kind: "eq", field: SLOT_FIELD, value: slot })),
    };
    const plan: Plan = { kind: "and", children: [query.plan, { kind: "not", child: left }] };
    return { ...await this.#node.shardPages({ ...query, plan }), ...said };
  }

  /**
   * The slots `assignment` gives this node that it neither serves nor may hold: the
   * coordinator routes by an older table (e.g. it holds back a flip naming a node it has not
   * met since its restart, while this node dropped its copy).
   */
  #unservedOf(assignment: SlotAssignment): number[] {
    const view = this.#view();
    const at = assignment.nodes.indexOf(view.self);
    const slots: number[] = [];
    assignment.owners.forEach((owner, slot) => {
      if (owner === at && !this.#slots.mayHold(view, slot)) slots.push(slot);
    });
    return slots;
  }

  /** Every slot this node is rebuilding (none when it rebuilds nothing). */
  #rebuildingList(): number[] {
    const rebuilding = this.#rebuilding;
    if (rebuilding === undefined || rebuilding.count === 0) return [];
    return rebuilding.count === CLUSTER_SLOTS
      ? Array.from({ length: CLUSTER_SLOTS }, (_, slot) => slot)
      : rebuilding.list();
  }

  /**
   * One phase of a search on every reachable node, with the nodes that failed counted. When
   * the first phase finds a node rebuilding slots it was assigned that another live owner can
   * answer, the assignment changes and the phase runs again (once): a wiped replica's copy
   * never counts.
   */
  async #pagesEverywhere(
    view: ClusterView,
    query: ShardQuery,
    excluded: Map<string, Error>,
    search: { assignment: SlotAssignment; phases: number },
  ): Promise<PageSet> {
    const first = search.phases++ === 0;
    let gathered = await this.#phase(view, query, excluded, search.assignment);
    if (
      first && this.#noteRebuilding(gathered) &&
      this.#answeredRebuilding(gathered, search.assignment) > 0
    ) {
      const assignment = this.#assignmentOf(view);
      if (!sameAssignment(assignment, search.assignment)) {
        search.assignment = assignment;
        gathered = await this.#phase(view, query, excluded, assignment);
      }
    }
    return this.#pageSetOf(view, gathered, search.assignment);
  }

  /** Notes which slots each answering node says it is rebuilding; true when one named any. */
  #noteRebuilding(gathered: Gathered<PageSet>): boolean {
    let any = false;
    for (const { node, value } of gathered.results) {
      const named = rebuildingSlotsOf(value.rebuildingSlots);
      if (named.length === 0) {
        this.#rebuildingSeen.delete(node);
        continue;
      }
      any = true;
      this.#rebuildingSeen.set(node, { slots: new Set(named), atMs: Date.now() });
    }
    return any;
  }

  /**
   * The shards of the answering nodes that were given a slot they say they are rebuilding, or
   * do not hold at all: their pages are not whole for this search.
   */
  #answeredRebuilding(gathered: Gathered<PageSet>, assignment: SlotAssignment): number {
    let shards = 0;
    for (const { node, value } of gathered.results) {
      if (rebuildingSlotsOf(value.unservedSlots).length > 0) {
        shards += value.totalShards;
        continue;
      }
      const named = new Set(rebuildingSlotsOf(value.rebuildingSlots));
      if (named.size === 0) continue;
      const at = assignment.nodes.indexOf(node);
      if (assignment.owners.some((owner, slot) => owner === at && named.has(slot))) {
        shards += value.totalShards;
      }
    }
    return shards;
  }

  /** Whether `node` said lately that it is rebuilding `slot` (this node: it knows). */
  #isRebuilding(view: ClusterView, node: string, slot: number): boolean {
    if (node === view.self) return this.#rebuilding?.has(slot) === true;
    const seen = this.#rebuildingSeen.get(node);
    if (seen === undefined) return false;
    if (Date.now() - seen.atMs > REBUILDING_SEEN_MS) {
      this.#rebuildingSeen.delete(node);
      return false;
    }
    return seen.slots.has(slot);
  }

  /** One phase on every reachable node under `assignment`. */
  async #phase(
    view: ClusterView,
    query: ShardQuery,
    excluded: Map<string, Error>,
    assignment: SlotAssignment,
  ): Promise<Gathered<PageSet>> {
    const gathered = await this.#calls.gather(view, (node) => {
      const reason = excluded.get(node);
      if (reason !== undefined) return Promise.reject(reason);
      if (node === view.self) return this.servePages(query, assignment);
      return this.#calls.unicast(
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
    return gathered;
  }

  /** The gathered pages as one set, with the shards of the nodes that count as failed. */
  #pageSetOf(
    view: ClusterView,
    gathered: Gathered<PageSet>,
    assignment: SlotAssignment,
  ): PageSet {
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
    // Slots answered by a replica still rebuilding them (no other live owner could): those pages
    // are not whole, so that node's shards count as failed (the search may miss documents).
    failedShards += this.#answeredRebuilding(gathered, assignment);
    // A slot assigned to a node not met yet (this node's table names it, e.g. while joining)
    // was answered by none: counted as one failed shard per such node, never silently missed.
    const unmet = [...assigned].filter((node) => !view.members.has(node));
    failedShards += unmet.length;
    totalShards += unmet.length;
    return {
      pages,
      totalShards,
      failedShards,
      nodesContacted: gathered.contacted,
      nodesFailed: failed.length + unmet.length,
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
      this.#counters.refused_peer_stats++;
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
    if (owners.length <= 1 || this.#slots.isFenced(slot)) {
      return this.#slots.ownerFor(view, slot, 0);
    }
    const live = owners.filter((node) => isLive(view, node));
    if (live.length === 0) return owners[0]!;
    // A replica still being rebuilt answers only when no other live one can.
    const whole = live.filter((node) => !this.#isRebuilding(view, node, slot));
    const from = whole.length > 0 ? whole : live;
    return from[(slot + turn) % from.length]!;
  }

  /** The slots this node may hold documents of that `assignment` gives to another node. */
  #excludedSlots(assignment: SlotAssignment): number[] {
    const view = this.#view();
    const excluded: number[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const assigned = assignment.nodes[assignment.owners[slot] ?? -1];
      if (assigned === view.self) continue;
      if (this.#slots.mayHold(view, slot)) excluded.push(slot);
    }
    return excluded;
  }
}

/** Whether two assignments give every slot to the same node. */
function sameAssignment(a: SlotAssignment, b: SlotAssignment): boolean {
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (a.nodes[a.owners[slot]!] !== b.nodes[b.owners[slot]!]) return false;
  }
  return true;
}

/** A peer's rebuilding slots, checked: anything but a list of slot numbers counts as none. */
export function rebuildingSlotsOf(raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length > CLUSTER_SLOTS) return [];
  const valid = raw.every((slot) => Number.isInteger(slot) && slot >= 0 && slot < CLUSTER_SLOTS);
  return valid ? raw as number[] : [];
}
