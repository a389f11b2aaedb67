/**
 * Anti-entropy between the replicas of a slot (Dynamo §4.7, Riak's active anti-entropy,
 * Cassandra's repair): replicas that disagree — a copy lost when its coordinator died
 * mid-write, hints dropped over their bounds, a node whose data directory was wiped and that
 * came back under its own id — converge without any client read.
 *
 * Every `network.cluster.anti_entropy_interval_ms` this node takes the next slot it owns with
 * other owners (round-robin over the 1,024 slots; a pass over all of them is a *sweep*; after a
 * round that repaired something the next one follows at once) and, per index, compares the slot
 * with each other live owner:
 *
 * 1. `entropyDigest`: the owner answers its slot's bucket digests (`slot_digest.ts`: entries
 *    `(id, stamp, deleted)` bucketed by a hash of the id, a SHA-256 per bucket);
 * 2. `entropyDiff` for the buckets that differ: this node sends its `(id, stamp)` entries of
 *    them; the owner answers stamped copies of what it holds newer (or this node lacks) and
 *    the ids this node holds newer (or it lacks);
 * 3. this node applies the copies (put-if-newer by stamp, as any copy) and sends the wanted
 *    ones back as `copy` — both directions in one exchange.
 *
 * A slot that is moving here or there (pending, fenced, or draining) is never compared: the
 * move streams it. The answering side refuses the same. Peer input is checked
 * (`anti_entropy_schema.ts`) before anything is read or applied; what fails is refused and
 * counted (`anti_entropy_refused`).
 *
 * @module
 */

import type { WriteResult } from "../node/executor.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { CLUSTER_SLOTS } from "../storage/slot.ts";
import {
  checkDiffReply,
  checkDigestReply,
  type EntropyDiffMsg,
  type EntropyDiffReply,
  type EntropyDigestMsg,
  type EntropyDigestReply,
  MalformedEntropyError,
  MAX_DIFF_ENTRIES,
  MAX_REPAIR_BYTES,
  MAX_REPAIR_ENTRIES,
  parseDiffRequest,
  parseDigestRequest,
  type WireDigestEntry,
} from "./anti_entropy_schema.ts";
import { copyOfEntry, type HeldEntry, readSlotEntries } from "./slot_entries.ts";
import {
  bucketize,
  bucketOf,
  compareEntries,
  differingBuckets,
  slotDigest,
} from "./slot_digest.ts";
import type { RebuildingSlots } from "./rebuilding.ts";
import { type ClusterView, isLive } from "./view.ts";

/** Default wait between two slot comparisons, in ms (a sweep of 1,024 slots: about 100 s). */
export const DEFAULT_ANTI_ENTROPY_INTERVAL_MS = 100;
/** Diff exchanges of one group of buckets in one round at most (each carries ≤ 500 copies). */
export const MAX_DIFF_PASSES = 50;
/**
 * Slots a node rebuilding a lost disk compares at once (a normal round compares one): the
 * rebuild is bounded by this, not by the interval.
 */
export const REBUILD_SLOTS_AT_ONCE = 4;
/** Stamped copies per `copy` message this node sends back. */
export const PUSH_PAGE_ENTRIES = 500;

/** Counters for `/_metrics` (each `cameodb_<name>_total`) and health. */
export type AntiEntropyCounters = {
  /** Slots compared (one per round that found a slot with another live owner). */
  anti_entropy_rounds: number;
  /** Passes over all 1,024 slots (that compared at least one). */
  anti_entropy_sweeps: number;
  /** Slot comparisons with one other owner, per index. */
  anti_entropy_slots_compared: number;
  anti_entropy_buckets_differing: number;
  /** Entries this node applied from another owner's copies. */
  anti_entropy_entries_pulled: number;
  /** Entries another owner applied from this node's copies. */
  anti_entropy_entries_pushed: number;
  /** Pulled plus pushed. */
  anti_entropy_entries_repaired: number;
  /** Buckets over `MAX_DIFF_ENTRIES` entries, not exchanged. */
  anti_entropy_buckets_skipped: number;
  /** Comparisons that failed (the owner did not answer). */
  anti_entropy_failures: number;
  /** Malformed messages or answers from peers, refused. */
  anti_entropy_refused: number;
  /** Slots of a wiped node compared in full with every other live owner (`rebuilding.ts`). */
  anti_entropy_slots_rebuilt: number;
};

/** What anti-entropy shows in the node's health. */
export type AntiEntropyStatus = {
  interval_ms: number;
  /** Slots this node is rebuilding (its data directory was empty at start): not yet counted. */
  rebuilding_slots: number;
  /** The slot the next round starts looking from. */
  next_slot: number;
} & AntiEntropyCounters;

/** What anti-entropy needs of the node and the cluster. */
export interface AntiEntropyDeps {
  readonly node: Pick<
    NodeOrchestrator,
    "shardCount" | "slotPage" | "slotTombstones" | "schemaList" | "write"
  >;
  /** The cluster view now. */
  readonly view: () => ClusterView;
  /** Asks another node's service; the answer is untrusted (checked here). */
  readonly ask: (
    node: string,
    msg: EntropyDigestMsg | EntropyDiffMsg | { type: "copy"; commands: readonly WriteCommand[] },
  ) => Promise<unknown>;
  /** Whether a slot is moving from or to here in a way the view does not show (fenced, draining). */
  readonly moving: (slot: number) => boolean;
  /** Wait between two rounds, in ms; 0 disables the rounds (answers are still served). */
  readonly intervalMs: number;
  /** The slots this node is rebuilding (compared first; each counts once compared in full). */
  readonly rebuilding?: RebuildingSlots;
  /**
   * A round of `slot` that started (before its digests were read) at `startedAtMs` completed
   * with every other owner in `owners`: the slot's tombstone horizon (`tombstone_horizons.ts`).
   */
  readonly onRepaired?: (slot: number, startedAtMs: number, owners: readonly string[]) => void;
  /** The cursor passed the last slot: a sweep ended (also one that compared nothing). */
  readonly onSweep?: () => void;
  readonly log?: { warn(message: string): void };
}

/** One node's anti-entropy: its rounds, and its answers to other owners' rounds. */
export class AntiEntropy {
  readonly counters: AntiEntropyCounters = {
    anti_entropy_rounds: 0,
    anti_entropy_sweeps: 0,
    anti_entropy_slots_compared: 0,
    anti_entropy_buckets_differing: 0,
    anti_entropy_entries_pulled: 0,
    anti_entropy_entries_pushed: 0,
    anti_entropy_entries_repaired: 0,
    anti_entropy_buckets_skipped: 0,
    anti_entropy_failures: 0,
    anti_entropy_refused: 0,
    anti_entropy_slots_rebuilt: 0,
  };
  readonly #deps: AntiEntropyDeps;
  #cursor = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  /** Rounds since the cursor last passed slot 0 (a pass without any is no sweep). */
  #roundsThisSweep = 0;
  /** Where the next rebuilding round starts looking (slots are rebuilt in turn). */
  #rebuildCursor = 0;
  /** The last round rebuilt a slot (the next one runs at once). */
  #rebuiltAny = false;

  constructor(deps: AntiEntropyDeps) {
    this.#deps = deps;
  }

  /** Counters and the sweep's position, for health. */
  status(): AntiEntropyStatus {
    return {
      interval_ms: this.#deps.intervalMs,
      rebuilding_slots: this.#deps.rebuilding?.count ?? 0,
      next_slot: this.#cursor,
      ...this.counters,
    };
  }

  /** Starts the rounds, one every `intervalMs` (none when it is 0). */
  start(): void {
    if (this.#deps.intervalMs <= 0 || this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** Stops the rounds (a round under way finishes). */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The next round after `intervalMs` — or at once after a round that repaired something, or
   * while slots are being rebuilt: a replica far behind (wiped) is rebuilt slot after slot,
   * still one slot at a time.
   */
  #schedule(delayMs = this.#deps.intervalMs): void {
    const timer = setTimeout(async () => {
      const repaired = this.counters.anti_entropy_entries_repaired;
      try {
        await this.runRound();
      } catch (error) {
        this.#deps.log?.warn(`anti-entropy round failed: ${(error as Error).message}`);
      }
      // Behind (it repaired something), or a lost disk's rebuild went on: the next round at once.
      const behind = this.counters.anti_entropy_entries_repaired > repaired || this.#rebuiltAny;
      this.#rebuiltAny = false;
      if (this.#running) this.#schedule(behind ? 0 : this.#deps.intervalMs);
    }, delayMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * One round: the next slot (from the cursor on) this node owns with another live owner is
   * compared with every other live owner. Resolves with the slot, or `undefined` when there
   * was none (a whole sweep found nothing to compare).
   */
  async runRound(): Promise<number | undefined> {
    const view = this.#deps.view();
    if (view.joining === true || view.slots === undefined) return undefined;
    const rebuilt = await this.#rebuildRound(view);
    if (rebuilt !== undefined) return rebuilt;
    for (let k = 0; k < CLUSTER_SLOTS; k++) {
      const slot = this.#cursor;
      this.#cursor = (slot + 1) % CLUSTER_SLOTS;
      if (this.#cursor === 0) this.#deps.onSweep?.();
      if (this.#cursor === 0 && this.#roundsThisSweep > 0) {
        this.counters.anti_entropy_sweeps++;
        this.#roundsThisSweep = 0;
      }
      if (this.#unsettled(view, slot) !== undefined) continue;
      const owners = view.slots.entry(slot).owners;
      const peers = owners.filter((node) => node !== view.self && isLive(view, node));
      if (peers.length === 0) continue;
      this.counters.anti_entropy_rounds++;
      this.#roundsThisSweep++;
      const startedAtMs = Date.now();
      const complete = await this.compareSlot(slot, peers);
      // Every other owner, not only the live ones: with one down the slot's tombstones stay.
      if (complete && peers.length === owners.length - 1) {
        this.#deps.onRepaired?.(slot, startedAtMs, owners);
      }
      return slot;
    }
    return undefined;
  }

  /**
   * A round for the next slots this node is rebuilding that have another live owner (up to
   * `REBUILD_SLOTS_AT_ONCE`, compared side by side): once one has been compared in full with
   * every other live owner, this node's copy of it counts. Resolves with the first such slot.
   */
  async #rebuildRound(view: ClusterView): Promise<number | undefined> {
    const rebuilding = this.#deps.rebuilding;
    if (rebuilding === undefined || rebuilding.count === 0) return undefined;
    const slots = rebuilding.list();
    const from = Math.max(slots.findIndex((slot) => slot >= this.#rebuildCursor), 0);
    const batch: Array<{ slot: number; peers: string[] }> = [];
    for (const slot of [...slots.slice(from), ...slots.slice(0, from)]) {
      if (batch.length >= REBUILD_SLOTS_AT_ONCE) break;
      if (this.#unsettled(view, slot) !== undefined) continue;
      const peers = view.slots!.entry(slot).owners.filter((node) =>
        node !== view.self && isLive(view, node)
      );
      if (peers.length > 0) batch.push({ slot, peers });
    }
    if (batch.length === 0) return undefined;
    // No index known here (its schemas not adopted): nothing was compared, nothing is rebuilt.
    if (this.#deps.node.schemaList().length === 0) return undefined;
    this.#rebuildCursor = batch.at(-1)!.slot + 1;
    this.counters.anti_entropy_rounds += batch.length;
    await Promise.all(batch.map(async ({ slot, peers }) => {
      const startedAtMs = Date.now();
      if (!await this.compareSlot(slot, peers)) return;
      this.#rebuiltAny = true;
      rebuilding.done(slot);
      this.counters.anti_entropy_slots_rebuilt++;
      const owners = view.slots!.entry(slot).owners;
      if (peers.length === owners.length - 1) this.#deps.onRepaired?.(slot, startedAtMs, owners);
    }));
    return batch[0]!.slot;
  }

  /**
   * Compares one slot of every index with each of `peers` (and repairs what differs).
   * Resolves with whether every comparison was completed (no peer failed or refused one).
   */
  async compareSlot(slot: number, peers: readonly string[]): Promise<boolean> {
    let complete = true;
    for (const { index } of this.#deps.node.schemaList()) {
      let digest: string[] | undefined;
      for (const peer of peers) {
        try {
          // Read again after a repair here: the next owner is compared with what is held now.
          digest ??= slotDigest(await readSlotEntries(this.#deps.node, index, slot));
          const pulled = this.counters.anti_entropy_entries_pulled;
          if (!await this.#compareWith(peer, index, slot, digest)) complete = false;
          if (this.counters.anti_entropy_entries_pulled > pulled) digest = undefined;
        } catch (error) {
          complete = false;
          if (error instanceof MalformedEntropyError) this.counters.anti_entropy_refused++;
          else this.counters.anti_entropy_failures++;
          this.#deps.log?.warn(
            `anti-entropy of slot ${slot} of "${index}" with ${peer}: ${(error as Error).message}`,
          );
        }
      }
    }
    return complete;
  }

  /** Compares and repairs one index's slot with `peer`; false when the peer refused to. */
  async #compareWith(
    peer: string,
    index: string,
    slot: number,
    digest: string[],
  ): Promise<boolean> {
    const reply = checkDigestReply(
      await this.#deps.ask(peer, { type: "entropyDigest", index, slot }),
    );
    // The peer does not hold the slot as an owner now (moving, or not its own): not compared.
    if ("refused" in reply) return false;
    this.counters.anti_entropy_slots_compared++;
    const differ = differingBuckets(digest, reply.digest);
    if (differ.length === 0) return true;
    this.counters.anti_entropy_buckets_differing += differ.length;
    const wanted = new Set(differ);
    const held = await readSlotEntries(this.#deps.node, index, slot, {
      keep: (id) => wanted.has(bucketOf(id)),
      keepDoc: () => true,
    });
    const buckets = bucketize(held);
    const groups = this.#groups(differ, buckets);
    let complete = groups.flat().length === differ.length;
    for (const group of groups) {
      if (!await this.#repairGroup(peer, index, slot, group, buckets)) complete = false;
    }
    return complete;
  }

  /** Differing buckets packed into diff requests of at most `MAX_DIFF_ENTRIES` entries. */
  #groups(differ: readonly number[], buckets: readonly HeldEntry[][]): number[][] {
    const groups: number[][] = [];
    let group: number[] = [];
    let size = 0;
    for (const bucket of differ) {
      const count = buckets[bucket]!.length;
      if (count > MAX_DIFF_ENTRIES) {
        this.counters.anti_entropy_buckets_skipped++;
        continue;
      }
      if (size + count > MAX_DIFF_ENTRIES && group.length > 0) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(bucket);
      size += count;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /**
   * Exchanges one group of buckets until the owner has no newer entry left for it; false
   * when it refused, did not take a copy, or still had more after `MAX_DIFF_PASSES`.
   */
  async #repairGroup(
    peer: string,
    index: string,
    slot: number,
    group: readonly number[],
    buckets: HeldEntry[][],
  ): Promise<boolean> {
    let taken = true;
    for (let pass = 0; pass < MAX_DIFF_PASSES; pass++) {
      const mine = new Map<string, HeldEntry>();
      for (const bucket of group) for (const entry of buckets[bucket]!) mine.set(entry.id, entry);
      const entries = [...mine.values()].map((
        e,
      ): WireDigestEntry => [e.id, e.stamp, e.deleted ? 1 : 0]);
      const asked = { index, slot, buckets: new Set(group), ids: new Set(mine.keys()) };
      const raw = await this.#deps.ask(peer, {
        type: "entropyDiff",
        index,
        slot,
        buckets: group,
        entries,
      });
      const reply = checkDiffReply(raw, asked);
      if ("refused" in reply) return false;
      await this.#pull(reply.newer, buckets);
      if (!await this.#push(peer, index, reply.wanted.map((id) => mine.get(id)!))) taken = false;
      if (!reply.more) return taken;
    }
    return false;
  }

  /** Applies another owner's newer entries here (put-if-newer) and notes them as held. */
  async #pull(newer: readonly WriteCommand[], buckets: HeldEntry[][]): Promise<void> {
    if (newer.length === 0) return;
    const results = await this.#deps.node.write(newer);
    const failed = results.findIndex((result) => result?.ok !== true);
    if (failed >= 0 || results.length < newer.length) {
      throw new Error(`a pulled copy of "${newer[Math.max(failed, 0)]!.id}" did not apply here`);
    }
    newer.forEach((command, k) => {
      if (!changed(results[k])) return;
      this.counters.anti_entropy_entries_pulled++;
      this.counters.anti_entropy_entries_repaired++;
      const entry: HeldEntry = {
        id: command.id,
        stamp: command.stamp!,
        deleted: command.op === "delete",
        version: command.version ?? 0,
        ...(command.routingKey === undefined ? {} : { routingKey: command.routingKey }),
        ...(command.op === "put" ? { doc: command.doc as Record<string, unknown> } : {}),
      };
      const bucket = buckets[bucketOf(command.id)]!;
      const at = bucket.findIndex((held) => held.id === command.id);
      if (at >= 0) bucket[at] = entry;
      else bucket.push(entry);
    });
  }

  /**
   * Sends the entries another owner wants as stamped copies, in pages; false when it failed
   * one (then it may lack a tombstone held here: the slot's round is not complete).
   */
  async #push(peer: string, index: string, wanted: readonly HeldEntry[]): Promise<boolean> {
    let taken = true;
    const copies = wanted.flatMap((entry) => copyOfEntry(index, entry) ?? []);
    for (let at = 0; at < copies.length; at += PUSH_PAGE_ENTRIES) {
      const page = copies.slice(at, at + PUSH_PAGE_ENTRIES);
      const answers = await this.#deps.ask(peer, { type: "copy", commands: page });
      if (!Array.isArray(answers)) throw new MalformedEntropyError("a copy answer is no list");
      const applied = answers.filter((answer) => changed(answer as WriteResult)).length;
      this.counters.anti_entropy_entries_pushed += applied;
      this.counters.anti_entropy_entries_repaired += applied;
      const failed = answers.some((answer) => (answer as WriteResult | undefined)?.ok !== true);
      if (failed || answers.length < page.length) taken = false;
    }
    return taken;
  }

  /** Why this node does not compare `slot` now (`undefined`: it does). */
  #unsettled(view: ClusterView, slot: number): string | undefined {
    const entry = view.slots?.entry(slot);
    if (entry === undefined || !entry.owners.includes(view.self)) return "not an owner";
    if (entry.owners.length < 2) return "not replicated";
    if (entry.pending !== undefined || this.#deps.moving(slot)) return "moving";
    return undefined;
  }

  /** Answers another owner's `entropyDigest`: this node's digest of the slot, or why not. */
  async serveDigest(raw: unknown): Promise<EntropyDigestReply> {
    try {
      const { index, slot } = parseDigestRequest(raw);
      const why = this.#unsettled(this.#deps.view(), slot);
      if (why !== undefined) return { refused: `slot ${slot} is ${why} here` };
      return { digest: slotDigest(await readSlotEntries(this.#deps.node, index, slot)) };
    } catch (error) {
      return this.#refuse(error);
    }
  }

  /** Answers another owner's `entropyDiff`: this node's newer entries and the ids it wants. */
  async serveDiff(raw: unknown): Promise<EntropyDiffReply> {
    try {
      const { index, slot, buckets, entries } = parseDiffRequest(raw);
      const why = this.#unsettled(this.#deps.view(), slot);
      if (why !== undefined) return { refused: `slot ${slot} is ${why} here` };
      const mine = await readSlotEntries(this.#deps.node, index, slot, {
        keep: (id) => buckets.has(bucketOf(id)),
        keepDoc: () => true,
      });
      const theirs = entries.map(([id, stamp, deleted]) => ({ id, stamp, deleted: deleted === 1 }));
      const { mineNewer, theirsNewer } = compareEntries(mine, theirs);
      const newer: WriteCommand[] = [];
      let bytes = 0;
      for (const entry of mineNewer) {
        const copy = copyOfEntry(index, entry);
        if (copy === undefined) continue;
        const size = copy.op === "put" ? JSON.stringify(copy.doc).length : 0;
        if (
          newer.length >= MAX_REPAIR_ENTRIES ||
          (newer.length > 0 && bytes + size > MAX_REPAIR_BYTES)
        ) {
          break;
        }
        newer.push(copy);
        bytes += size;
      }
      const more = newer.length < mineNewer.length;
      return { newer, wanted: theirsNewer.map((entry) => entry.id), more };
    } catch (error) {
      return this.#refuse(error);
    }
  }

  #refuse(error: unknown): { refused: string } {
    if (!(error instanceof MalformedEntropyError)) throw error;
    this.counters.anti_entropy_refused++;
    return { refused: error.message };
  }
}

/**
 * Whether a copy's answer says it changed something: a copy not newer is `unchanged`; a
 * copied delete of a document not held answers `not_found` but leaves its tombstone.
 */
function changed(result: WriteResult | undefined): boolean {
  return result?.ok === true && result.result !== "unchanged";
}
