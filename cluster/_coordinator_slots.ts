/**
 * The coordinator's slot table upkeep and the moves it drives: where slots should be (the
 * ring over the `up` members), planning moves (`slot_moves.ts`), keeping `slots.json`,
 * telling members of changes (a push after each turn's changes are on disk, the digest — and
 * the table when it differs — on every heartbeat), merging what members tell, and a leaving
 * node's last step (every slot handed off: it has left).
 *
 * @module
 */

import type { Handlers } from "../actors/handlers.ts";
import type { MemberRecords } from "./_coordinator_records.ts";
import type { CoordinatorState } from "./_coordinator_state.ts";
import type { CoordinatorMsg, CoordinatorReplies, SlotNews } from "./coordinator_protocol.ts";
import { type MemberRecord, ownsSlots } from "./membership.ts";
import { checkedSlotNews } from "./peer_input.ts";
import { HashRing } from "./ring.ts";
import { DEFAULT_MAX_SLOTS_MOVING, SlotMoves } from "./slot_moves.ts";
import { type EntryGate, SlotTable, type WireEntry, writeSlotFile } from "./slot_table.ts";
import type { NodeInfo } from "./view.ts";

/** Default time a flipped slot's copy is kept after every member acknowledged it, in ms. */
const DEFAULT_DROP_GRACE_MS = 1_000;

/** The coordinator messages the slot upkeep handles. */
export type SlotMessages =
  | "slotStreamed"
  | "slotDrop"
  | "slotDropped"
  | "slotsFlush"
  | "slotsPush"
  | "slotsPushed"
  | "slotsPersist";

/**
 * The slot table a node starts with: the one it kept; else, for the first node of a new
 * cluster, every slot its own; for a node of a cluster that ran before slot tables, the ring
 * over the kept members (every such node computes the same); for a node joining through a
 * seed, nothing (the table it hears wins).
 */
export function initialSlotTable(
  self: string,
  options: {
    readonly kept: SlotTable | undefined;
    readonly seeds: readonly string[];
    readonly snapshot: readonly NodeInfo[];
    readonly records: readonly MemberRecord[];
  },
): SlotTable {
  if (options.kept !== undefined) return options.kept;
  const others = options.snapshot.filter((info) => info.nodeId !== self);
  if (others.length > 0) {
    const states = new Map(options.records.map((r) => [r.nodeId, r.state]));
    const owners = [self, ...others.map((info) => info.nodeId)]
      .filter((node) => ownsSlots(states.get(node) ?? "up"));
    // One owner each, where the data is; the leads then stream each slot to its other replicas.
    return SlotTable.fromRing(new HashRing(owners));
  }
  return options.seeds.length > 0 ? SlotTable.unknown() : SlotTable.ownedBy(self);
}

/** The state and the two parts every other part of the coordinator works through. */
export interface CoordinatorParts {
  readonly state: CoordinatorState;
  readonly records: MemberRecords;
  readonly slots: SlotUpkeep;
}

/** The slot table upkeep of one coordinator. */
export class SlotUpkeep {
  readonly moves: SlotMoves;
  readonly #s: CoordinatorState;
  readonly #records: MemberRecords;
  /** Per member, the slot digest it last told and how many slots it is still draining. */
  readonly #heard = new Map<string, { digest: string; draining: number }>();
  /** Slots with a newer entry held back: it names an owner not met yet (`SlotTable.merge`). */
  readonly #waiting = new Set<number>();
  /** `slots.json` writes, one at a time (each replaces the file through a rename). */
  #slotWrite: Promise<void> = Promise.resolve();
  /** `slots.json` is written once for all the merges of this turn. */
  #persistScheduled = false;
  /** Members are told once for all the changes of this turn. */
  #flushScheduled = false;
  #desired: { key: string; ring: HashRing | undefined } = { key: "", ring: undefined };

  constructor(state: CoordinatorState, records: MemberRecords) {
    this.#s = state;
    this.#records = records;
    const deps = state.deps;
    this.moves = new SlotMoves(state.table, {
      self: state.self.nodeId,
      maxSlotsMoving: deps.maxSlotsMoving ?? DEFAULT_MAX_SLOTS_MOVING,
      dropGraceMs: deps.dropGraceMs ?? DEFAULT_DROP_GRACE_MS,
      move: deps.moveSlot ?? (() => Promise.reject(new Error("this node cannot move slots"))),
      abort: deps.abortMove ?? (() => {}),
      drop: deps.dropSlot ?? (() => Promise.resolve()),
      later: (ms, msg) => state.later(ms, msg),
      tellSelf: (msg) => deps.tellSelf(msg),
      replicationFactor: deps.replicationFactor ?? 1,
      leave: (slot) => deps.leaveSlot?.(slot),
      log: deps.log,
    });
  }

  /** The handlers of the slot messages. */
  handlers(): Pick<Handlers<CoordinatorMsg, CoordinatorReplies>, SlotMessages> {
    const moves = this.moves;
    return {
      slotStreamed: (msg) => {
        if (moves.onStreamed(msg)) this.#changed();
        this.plan();
      },
      slotDrop: (msg) => moves.onDrop(msg.slot, this.#s.liveMembers()),
      slotDropped: (msg) => {
        moves.onDropped(msg.slot, msg.error);
        if (msg.error === undefined) {
          this.#s.deps.holdSlots?.(moves.heldSlots());
          this.maybeLeft();
        }
      },
      slotsFlush: () => this.#flush(),
      slotsPush: (msg) => this.#push(msg.entries),
      slotsPushed: (msg) => this.#onPushed(msg.node, msg.entries, msg.answer),
      slotsPersist: () => {
        this.#persistScheduled = false;
        this.persist();
      },
    };
  }

  /** Keeps the table in `slots.json`, after the writes before it. */
  persist(): void {
    const snapshotOfTable = this.#s.table.copy();
    this.#slotWrite = this.#slotWrite
      .then(() => writeSlotFile(this.#s.deps.dataDir, snapshotOfTable))
      .catch((error) => this.#s.deps.log.warn(`cannot keep the slot table: ${error}`));
  }

  /**
   * What this node tells a member of its slot table: its digest, and the whole table on a
   * regular heartbeat when the member last told a different digest (`withTable`).
   */
  news(node: string, withTable: boolean): SlotNews {
    const table = this.#s.table;
    const digest = table.digest();
    const differs = withTable && this.#heard.get(node)?.digest !== digest;
    return {
      digest,
      draining: this.moves.moving,
      ...(differs ? { table: table.toWire() } : {}),
      ...(this.#waiting.size > 0 ? { waiting: [...this.#waiting] } : {}),
    };
  }

  /** Claims and starts moves as the members now stand; tells everyone when the table changed. */
  plan(): void {
    const s = this.#s;
    if (s.joining) return;
    const changed = this.moves.plan({
      desired: this.#desiredRing(),
      isLive: (node) =>
        node === s.self.nodeId ||
        (s.members.get(node)?.connected === true && s.detector.state(node) === "up" &&
          !s.isRemoved(node)),
      isGone: (node) => s.isRemoved(node),
    });
    if (changed) this.#changed();
    this.maybeLeft();
  }

  /** Takes a member's slot news: merges its table, notes its acknowledgements and drains. */
  take(node: string, raw: unknown): void {
    const s = this.#s;
    const peer = s.members.get(node)?.info.peerId ?? node;
    const news = checkedSlotNews(raw, peer, s.deps.counters);
    if (news === undefined) return;
    let changed: number[] = [];
    const before = s.table.copy();
    if (news.table !== undefined) {
      changed = s.table.merge(news.table, this.#gate);
      this.moves.onMemberTable(node, news.table);
    }
    if (news.entries !== undefined) {
      changed.push(...s.table.mergeEntries(news.entries, this.#gate));
    }
    for (const slot of changed) this.#waiting.delete(slot);
    this.moves.onMerged(changed, before);
    this.#heard.set(node, { digest: news.digest, draining: news.draining });
    if (news.digest === s.table.digest()) this.moves.onMemberTable(node, "same");
    this.moves.checkDrains(s.liveMembers());
    if (changed.length > 0) {
      this.#persistSoon();
      s.publish();
      this.plan();
    }
  }

  /** Merges the table a member's hello carried. */
  takeHello(node: string, wire: readonly WireEntry[]): void {
    const theirs = SlotTable.fromWire(wire);
    const before = this.#s.table.copy();
    const changed = this.#s.table.merge(theirs, this.#gate);
    for (const slot of changed) this.#waiting.delete(slot);
    this.moves.onMerged(changed, before);
    if (changed.length > 0) this.persist();
    this.moves.onMemberTable(node, theirs);
  }

  /**
   * Merges take an entry naming a node this node has not met only once it has met it; until
   * then the slot is noted waiting (a push of it is not acknowledged by the answer).
   */
  readonly #gate: EntryGate = {
    met: (node) => node === this.#s.self.nodeId || this.#s.members.has(node),
    waits: (slot) => this.#waiting.add(slot),
  };

  /** Slots moving anywhere, as far as this node knows: pending ones, and copies not dropped. */
  slotsMoving(): number {
    const s = this.#s;
    let draining = this.moves.moving;
    for (const [node, heard] of this.#heard) {
      if (s.members.get(node)?.connected === true && !s.isRemoved(node)) {
        draining += heard.draining;
      }
    }
    return Math.max(s.table.pendingSlots().length, 0) + draining;
  }

  /** A leaving node that holds no slot any more has left. */
  maybeLeft(): void {
    const s = this.#s;
    const own = s.records.get(s.self.nodeId)!;
    if (own.state !== "leaving" || this.moves.moving > 0) return;
    if ((s.table.spread().get(s.self.nodeId) ?? 0) > 0) return;
    s.deps.log.info("every slot is handed off: this node has left the cluster");
    this.#records.setOwnState("left");
  }

  /**
   * The members that are up (by record; a lost member stays one until removed), with their
   * zones: where slots should be. A leaving member is not one of them, so its slots move off it.
   */
  #desiredRing(): HashRing | undefined {
    const s = this.#s;
    const up = [...s.members.keys()].filter((id) => (s.records.get(id)?.state ?? "up") === "up");
    // Replicas go to different zones (`node.zone`) while there are zones left.
    const zones = new Map(up.map((id) => [id, s.members.get(id)?.info.zone ?? ""]));
    const key = up.sort().map((id) => `${id}@${zones.get(id)}`).join(",");
    if (this.#desired.key !== key) {
      this.#desired = { key, ring: up.length === 0 ? undefined : new HashRing(up, { zones }) };
    }
    return this.#desired.ring;
  }

  /**
   * The table changed here: route by it at once; keep it, then tell every member — once for
   * every change made meanwhile (a flush message after the changes of this turn), and only
   * after it is on disk, so no member holds an entry this node could forget in a crash.
   */
  #changed(): void {
    this.#s.publish();
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#s.later(0, { type: "slotsFlush" });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const entries = this.#s.table.takeChanged();
    this.persist();
    this.#s.deps.holdSlots?.(this.moves.heldSlots());
    if (entries.length > 0) {
      this.#slotWrite.then(() => this.#s.deps.tellSelf({ type: "slotsPush", entries }));
    }
  }

  #persistSoon(): void {
    if (this.#persistScheduled) return;
    this.#persistScheduled = true;
    this.#s.later(0, { type: "slotsPersist" });
  }

  /** Sends the changed entries to every connected member now; their answers acknowledge them. */
  #push(entries: Array<[number, WireEntry]>): void {
    const s = this.#s;
    const news: SlotNews = { digest: s.table.digest(), draining: this.moves.moving, entries };
    const recordList = this.#records.all();
    for (const [node, member] of s.members) {
      if (node === s.self.nodeId || !member.connected || s.isRemoved(node)) continue;
      s.deps.sendHeartbeat(node, recordList, news).then(
        (answer) => s.deps.tellSelf({ type: "slotsPushed", node, entries, answer }),
        () => {},
      );
    }
  }

  /** A member answered a push: its acknowledgement, and the slot news it answered with. */
  #onPushed(node: string, entries: Array<[number, WireEntry]>, answer: unknown): void {
    const slots = (answer as { slots?: unknown } | undefined)?.slots;
    const waiting = (slots as { waiting?: unknown } | undefined)?.waiting;
    const held = Array.isArray(waiting)
      ? entries.filter(([slot]) => !waiting.includes(slot))
      : entries;
    this.moves.onPushAcked(node, held);
    try {
      if (this.#s.members.get(node)?.connected === true) this.take(node, slots);
    } catch (error) {
      this.#s.deps.log.warn(`refused the slot news of ${node}: ${(error as Error).message}`);
    }
    this.moves.checkDrains(this.#s.liveMembers());
  }
}
