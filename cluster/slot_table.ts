/**
 * The slot table: for each of the 1,024 cluster slots, the node that serves it now and the
 * node receiving it while it moves — `{owners, pending?, version}` — merged last-writer-wins
 * by version like the membership records (`membership.ts`: `[epoch, origin]`, a total order,
 * so tables changed through different nodes converge in any order of arrival). Routing goes
 * by this table, never by the ring: the ring over the `up` members only says where each slot
 * *should* be (its desired owner), and a slot gets there by a move (`slot_moves.ts`), so
 * ownership flips only after the data has moved (Cassandra's pending ranges, Riak's handoff).
 *
 * `owners` holds a slot's replicas (issue 16): with `replication_factor` RF, the first
 * min(RF, members) distinct nodes on the ring from the slot's position once its moves are
 * done, the first of them (the lead) the one that changes the entry; an empty list means
 * "not known yet" (a node joining through a seed, before it has
 * heard a table). Who may change an entry: only its current owner (start or finish its move),
 * or, when the owner was removed, the slot's desired owner (a claim) — see `slot_moves.ts`.
 *
 * @module
 */

import { CLUSTER_SLOTS } from "../storage/slot.ts";
import { fnv1a } from "../storage/slot.ts";
import { MalformedFrameError } from "./errors.ts";
import { compareVersions, type RecordVersion } from "./membership.ts";
import type { HashRing } from "./ring.ts";

/** One slot's entry. */
export interface SlotEntry {
  /** The slot's replicas, its lead first (one with replication factor 1); empty while unknown. */
  readonly owners: readonly string[];
  /** The node the slot is being moved to: it receives every write besides the owner. */
  readonly pending?: string;
  readonly version: RecordVersion;
}

/** Which incoming entries a merge takes now (see `SlotTable.merge`). */
export interface EntryGate {
  /** Whether this node has met `node` (it can ask it). */
  readonly met: (node: string) => boolean;
  /** A newer entry for `slot` waits: it names a node not met yet. */
  readonly waits: (slot: number) => void;
}

/** An entry as it crosses the wire: `[owners, pending or "", epoch, origin]`. */
export type WireEntry = [string[], string, number, string];

/** Longest node id in an entry, in characters. */
const MAX_NODE_ID_CHARS = 1_024;
/** Most owners one entry may list. */
const MAX_OWNERS = 16;

/** The 1,024 entries, merged last-writer-wins. Mutable: the coordinator owns the one it uses. */
export class SlotTable {
  readonly #entries: SlotEntry[];
  #digest: string | undefined;
  /** Slots changed here (by `set`) since the last `takeChanged`. */
  readonly #changed = new Set<number>();

  private constructor(entries: SlotEntry[]) {
    this.#entries = entries;
  }

  /** Every slot owned by `node` (the first node of a new cluster). */
  static ownedBy(node: string): SlotTable {
    return new SlotTable(
      Array.from({ length: CLUSTER_SLOTS }, () => ({ owners: [node], version: [1, node] })),
    );
  }

  /** Nothing known yet (a node joining through a seed): any table heard wins. */
  static unknown(): SlotTable {
    return new SlotTable(
      Array.from({ length: CLUSTER_SLOTS }, () => ({ owners: [], version: [0, ""] })),
    );
  }

  /**
   * The ring's owners at the lowest version any change beats (a cluster whose nodes ran
   * before slot tables: every such node computes the same from the same member list).
   */
  static fromRing(ring: HashRing, replicationFactor = 1): SlotTable {
    return new SlotTable(
      Array.from({ length: CLUSTER_SLOTS }, (_, slot) => ({
        owners: ring.ownersOfSlot(slot, replicationFactor),
        version: [1, ""],
      })),
    );
  }

  /** A table from its wire form (checked: a bad one throws `MalformedFrameError`). */
  static fromWire(raw: unknown): SlotTable {
    return new SlotTable(parseWireTable(raw));
  }

  /** One slot's entry. */
  entry(slot: number): SlotEntry {
    return this.#entries[slot]!;
  }

  /** The node serving a slot, or `undefined` while unknown. */
  ownerOf(slot: number): string | undefined {
    return this.#entries[slot]!.owners[0];
  }

  /** Replaces one entry (a change made here: its version must be newer). */
  set(slot: number, entry: SlotEntry): void {
    this.#entries[slot] = entry;
    this.#digest = undefined;
    this.#changed.add(slot);
  }

  /** The entries changed here since the last call, in wire form (what a push carries). */
  takeChanged(): Array<[number, WireEntry]> {
    const changed = [...this.#changed].map((
      slot,
    ): [number, WireEntry] => [slot, toWire(this.#entries[slot]!)]);
    this.#changed.clear();
    return changed;
  }

  /** Takes the incoming entries newer than the ones held; returns the slots that changed. */
  mergeEntries(
    incoming: ReadonlyArray<readonly [number, SlotEntry]>,
    gate?: EntryGate,
  ): number[] {
    const changed: number[] = [];
    for (const [slot, theirs] of incoming) {
      if (this.#takes(slot, theirs, gate)) changed.push(slot);
    }
    if (changed.length > 0) this.#digest = undefined;
    return changed;
  }

  /**
   * Takes every incoming entry newer than the one held; returns the slots that changed. With
   * a `gate`, an entry that names an owner this node has not met waits (see `#takes`).
   */
  merge(incoming: SlotTable, gate?: EntryGate): number[] {
    const changed: number[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (this.#takes(slot, incoming.#entries[slot]!, gate)) changed.push(slot);
    }
    if (changed.length > 0) this.#digest = undefined;
    return changed;
  }

  /**
   * Takes one entry when it is newer. An entry that would hand a slot this node routes (its
   * held entry has owners) to a node it has not met (`known` false) waits: this node could not
   * ask that node in a search, and by the entry it would no longer ask the old owner either —
   * the slot would be answered by none. Until then the old owner serves it here, and since
   * this table does not hold the flip, the old owner keeps its copy (it drops a flipped slot
   * only once every live member holds the flip). The entry comes again with the next
   * heartbeat's table, after this node has met the new owner.
   */
  #takes(slot: number, theirs: SlotEntry, gate?: EntryGate): boolean {
    const held = this.#entries[slot]!;
    if (compareVersions(theirs.version, held.version) <= 0) return false;
    if (gate !== undefined && held.owners.length > 0 && !theirs.owners.every(gate.met)) {
      gate.waits(slot);
      return false;
    }
    this.#entries[slot] = theirs;
    return true;
  }

  /** A short digest of the whole table: two nodes with equal digests route alike. */
  digest(): string {
    this.#digest ??= fnv1a(JSON.stringify(this.toWire())).toString(16);
    return this.#digest;
  }

  /** The wire form. */
  toWire(): WireEntry[] {
    return this.#entries.map(toWire);
  }

  /** A copy (handed to the router, which must not see later changes half-made). */
  copy(): SlotTable {
    const table = new SlotTable([...this.#entries]);
    table.#digest = this.#digest;
    return table;
  }

  /** How many slots each node serves. */
  spread(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { owners } of this.#entries) {
      for (const node of owners) counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    return counts;
  }

  /** How many slots `node` serves with no other owner (the ones lost if it is lost). */
  soleOwned(node: string): number {
    return this.#entries.filter(({ owners }) =>
      owners.length > 0 && owners.every((owner) => owner === node)
    ).length;
  }

  /** The slots with a pending receiver. */
  pendingSlots(): number[] {
    const slots: number[] = [];
    this.#entries.forEach((entry, slot) => {
      if (entry.pending !== undefined) slots.push(slot);
    });
    return slots;
  }
}

function toWire(e: SlotEntry): WireEntry {
  return [[...e.owners], e.pending ?? "", e.version[0], e.version[1]];
}

function fail(what: string): never {
  throw new MalformedFrameError(`a slot table: ${what}`);
}

function nodeId(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length > MAX_NODE_ID_CHARS) {
    fail(`${what} is not a string of at most ${MAX_NODE_ID_CHARS} characters`);
  }
  return value;
}

/** Checks a table as a peer (or `slots.json`) sends it. */
export function parseWireTable(raw: unknown): SlotEntry[] {
  if (!Array.isArray(raw) || raw.length !== CLUSTER_SLOTS) {
    fail(`not a list of ${CLUSTER_SLOTS} entries`);
  }
  return raw.map(parseWireEntry);
}

/** Checks changed entries as a push carries them: `[slot, entry]` pairs. */
export function parseWireEntries(raw: unknown): Array<[number, SlotEntry]> {
  if (!Array.isArray(raw) || raw.length > CLUSTER_SLOTS) {
    fail(`the changed entries are not a list of at most ${CLUSTER_SLOTS}`);
  }
  return raw.map((pair): [number, SlotEntry] => {
    if (!Array.isArray(pair) || pair.length !== 2) fail("a changed entry is not a pair");
    const slot = pair[0];
    if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) {
      fail("a slot is out of range");
    }
    return [slot as number, parseWireEntry(pair[1])];
  });
}

function parseWireEntry(item: unknown): SlotEntry {
  if (!Array.isArray(item) || item.length !== 4) fail("an entry is not a 4-tuple");
  const [owners, pending, epoch, origin] = item as unknown[];
  if (!Array.isArray(owners) || owners.length > MAX_OWNERS) {
    fail(`an entry's owners are not a list of at most ${MAX_OWNERS}`);
  }
  if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) {
    fail("an entry's epoch is not a non-negative integer");
  }
  const receiver = nodeId(pending, "an entry's pending node");
  return {
    owners: owners.map((owner) => nodeId(owner, "an owner")).filter((o) => o !== ""),
    ...(receiver === "" ? {} : { pending: receiver }),
    version: [epoch, nodeId(origin, "an entry's origin")],
  };
}

/** The entry a node writes when it changes a slot: one epoch above what it replaces. */
export function nextEntry(
  previous: SlotEntry,
  by: string,
  change: { readonly owners: readonly string[]; readonly pending?: string },
): SlotEntry {
  return {
    owners: [...change.owners],
    ...(change.pending === undefined ? {} : { pending: change.pending }),
    version: [previous.version[0] + 1, by],
  };
}

/** `slots.json` in the data directory: the table this node last held. */
const FILE = "slots.json";

/** Reads the kept table, or `undefined` before the first write. */
export async function readSlotFile(dataDir: string): Promise<SlotTable | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dataDir}/${FILE}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return SlotTable.fromWire(JSON.parse(text));
}

/** Whether the data directory holds a kept table (a node that was in a cluster with it). */
export async function hasSlotFile(dataDir: string): Promise<boolean> {
  try {
    await Deno.stat(`${dataDir}/${FILE}`);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Replaces `slots.json` at once (a crash leaves the old file or the new one). */
export async function writeSlotFile(dataDir: string, table: SlotTable): Promise<void> {
  const path = `${dataDir}/${FILE}`;
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(table.toWire()));
  await Deno.rename(`${path}.tmp`, path);
}
