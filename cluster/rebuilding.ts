/**
 * The replicated slots this node is rebuilding: a node that starts with an empty data
 * directory (a lost disk replaced, its identity kept) is still an owner of its slots by the
 * cluster's table, but holds none of their documents. Until anti-entropy has compared such a
 * slot with every other live owner (`anti_entropy.ts`, which takes these slots first), this
 * node's copy does not count: its point-read answers say `rebuilding` and are not part of a
 * read quorum, and its search pages for the slot are replaced by another owner's. Cassandra
 * keeps a replacing node out of reads the same way until its bootstrap streaming is done
 * (`replace_address`); here the streaming is anti-entropy's exchange.
 *
 * Which slots: those this node owns with another owner in the first whole table it holds
 * after joining. A node that starts with its data (a `slots.json` kept) rebuilds nothing:
 * what it missed while away comes by hints, read repair and anti-entropy as usual. A slot
 * that stops being owned here is forgotten. The set is kept in `rebuilding.json` until it is
 * empty, so a node restarted in the middle of its rebuild goes on with it.
 *
 * @module
 */

import { CLUSTER_SLOTS } from "../storage/slot.ts";
import type { ClusterView } from "./view.ts";

/** `rebuilding.json` in the data directory: the slots still being rebuilt, or `"unknown"`. */
const FILE = "rebuilding.json";

/** The slots this node is rebuilding (see the module doc). */
export class RebuildingSlots {
  /** `undefined` until the first whole table after joining (then: every slot counts). */
  #slots: Set<number> | undefined;
  readonly #dataDir: string | undefined;
  /** `rebuilding.json` writes, one at a time; `#dirty` when another is due after it. */
  #writing: Promise<void> | undefined;
  #dirty = false;
  /** Slots rebuilt since the process started. */
  rebuilt = 0;

  /**
   * `state`: `"unknown"` (started with an empty data directory, the slots not known yet), the
   * slots still being rebuilt, or none. With `dataDir`, the state is kept in
   * `rebuilding.json` there, so a restart in the middle of a rebuild goes on with it.
   */
  constructor(state: "unknown" | Iterable<number> = [], dataDir?: string) {
    this.#slots = state === "unknown" ? undefined : new Set(state);
    this.#dataDir = dataDir;
  }

  /**
   * The rebuilding state of the node whose data directory is `dataDir`: the one kept in
   * `rebuilding.json`; else, when `fresh` (no slot table kept: the disk is new), `"unknown"`,
   * written down before anything else is, so a crash before the set is known keeps it.
   */
  static async open(dataDir: string, fresh: boolean): Promise<RebuildingSlots> {
    const kept = await readState(dataDir);
    const state = kept ?? (fresh ? "unknown" : []);
    const rebuilding = new RebuildingSlots(state, dataDir);
    if (kept === undefined && fresh) await writeState(dataDir, "unknown");
    return rebuilding;
  }

  /** A new view: the first whole table fixes the set; slots no longer owned here are dropped. */
  onView(view: ClusterView): void {
    const table = view.slots;
    if (table === undefined || view.joining === true) return;
    if (this.#slots === undefined) {
      const owned = new Set<number>();
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        const owners = table.entry(slot).owners;
        // Not whole yet (a table heard from nobody): wait for the next view.
        if (owners.length === 0) return;
        if (owners.includes(view.self) && owners.length > 1) owned.add(slot);
      }
      this.#slots = owned;
      this.#keep();
      return;
    }
    let changed = false;
    for (const slot of this.#slots) {
      const owners = table.entry(slot).owners;
      // Not owned here any more, or owned here alone (nothing left to rebuild it from).
      if (!owners.includes(view.self) || owners.length === 1) changed = this.#slots.delete(slot);
    }
    if (changed) this.#keep();
  }

  /** Whether this node's copy of `slot` is still being rebuilt (every slot until the set is known). */
  has(slot: number): boolean {
    return this.#slots === undefined || this.#slots.has(slot);
  }

  /** Anti-entropy compared `slot` with every other live owner: this copy counts from now on. */
  done(slot: number): void {
    if (this.#slots?.delete(slot) !== true) return;
    this.rebuilt++;
    this.#keep();
  }

  /** The slots still being rebuilt, in order (none known yet: empty). */
  list(): number[] {
    return [...this.#slots ?? []].sort((a, b) => a - b);
  }

  /** How many slots are still being rebuilt (`CLUSTER_SLOTS` until the set is known). */
  get count(): number {
    return this.#slots === undefined ? CLUSTER_SLOTS : this.#slots.size;
  }

  /** Resolves once the state as it is now is on disk. */
  async flushed(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /** Writes the state down after the write under way (one at a time, the last one wins). */
  #keep(): void {
    const dataDir = this.#dataDir;
    if (dataDir === undefined) return;
    if (this.#writing !== undefined) {
      this.#dirty = true;
      return;
    }
    const slots = this.list();
    this.#writing = (slots.length === 0 ? removeState(dataDir) : writeState(dataDir, slots))
      .catch(() => {
        // Not kept: a restart before the next write rebuilds more slots than needed, or (the
        // file gone) believes its copies; the next change writes again.
      })
      .finally(() => {
        this.#writing = undefined;
        if (this.#dirty) {
          this.#dirty = false;
          this.#keep();
        }
      });
  }
}

async function readState(dataDir: string): Promise<"unknown" | number[] | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dataDir}/${FILE}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let state: { slots?: unknown } | null;
  try {
    state = JSON.parse(text);
  } catch {
    return "unknown";
  }
  if (typeof state !== "object" || state === null || state.slots === "unknown") return "unknown";
  if (
    Array.isArray(state.slots) &&
    state.slots.every((slot) => Number.isInteger(slot) && slot >= 0 && slot < CLUSTER_SLOTS)
  ) {
    return state.slots as number[];
  }
  // Unreadable: rebuild everything rather than trust copies that may be partial.
  return "unknown";
}

/** Replaces `rebuilding.json` at once (a crash leaves the old file or the new one). */
async function writeState(dataDir: string, slots: "unknown" | number[]): Promise<void> {
  const path = `${dataDir}/${FILE}`;
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify({ slots }));
  await Deno.rename(`${path}.tmp`, path);
}

async function removeState(dataDir: string): Promise<void> {
  await Deno.remove(`${dataDir}/${FILE}`).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}
