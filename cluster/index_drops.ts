/**
 * Index drops the cluster remembers, so a node that was away when an index was dropped
 * cannot bring it back: a drop is kept as a marker — the index's name and when it was dropped
 * (wall-clock ms) — in `index_drops.json` in the data directory, sent with every hello and with
 * the drop's broadcast, and merged (the later drop wins). Every index this node holds has a
 * birth (when this node first held it, or the birth its schema came with from another node);
 * an index born at or before a drop of its name is that dropped index: a node holding it drops
 * it, and its schema is not adopted from a peer. An index created again after the drop is born
 * later and lives. The same rule as a document's tombstone, at the scale of an index (and, like
 * Cassandra's schema changes, ordered by wall-clock time: nodes' clocks must agree to well
 * within the time between a drop and a re-creation).
 *
 * @module
 */

import { MalformedFrameError } from "./errors.ts";

/** The file the markers and births are kept in, in the data directory. */
export const INDEX_DROPS_FILE = "index_drops.json";
/** Most drop markers kept (the oldest are forgotten first). */
export const MAX_DROP_MARKERS = 10_000;
/** Longest index name a marker may carry, in characters. */
const MAX_INDEX_NAME_CHARS = 256;

/** A dropped index as nodes exchange it. */
export interface IndexDrop {
  readonly index: string;
  /** When it was dropped, in ms since the epoch. */
  readonly atMs: number;
}

interface Kept {
  drops: Record<string, number>;
  births: Record<string, number>;
}

/** The markers and births of one node, kept on disk. */
export class IndexDrops {
  readonly #path: string | undefined;
  readonly #drops = new Map<string, number>();
  readonly #births = new Map<string, number>();
  readonly #nowMs: () => number;
  /** The saves in order (each writes the state of its moment). */
  #saving: Promise<void> = Promise.resolve();

  private constructor(path: string | undefined, nowMs: () => number) {
    this.#path = path;
    this.#nowMs = nowMs;
  }

  /** Reads `index_drops.json` of `dataDir` (none: nothing dropped yet); in memory without one. */
  static async open(
    dataDir: string | undefined,
    options: { readonly nowMs?: () => number } = {},
  ): Promise<IndexDrops> {
    const path = dataDir === undefined ? undefined : `${dataDir}/${INDEX_DROPS_FILE}`;
    const drops = new IndexDrops(path, options.nowMs ?? Date.now);
    if (path === undefined) return drops;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return drops;
      throw error;
    }
    const kept = JSON.parse(text) as Partial<Kept>;
    for (const [index, atMs] of Object.entries(kept.drops ?? {})) drops.#drops.set(index, atMs);
    for (const [index, atMs] of Object.entries(kept.births ?? {})) drops.#births.set(index, atMs);
    return drops;
  }

  /** Every marker, to send to another node. */
  list(): IndexDrop[] {
    return [...this.#drops].map(([index, atMs]) => ({ index, atMs }));
  }

  /** When `index` was last dropped, if it was. */
  droppedAt(index: string): number | undefined {
    return this.#drops.get(index);
  }

  /** The birth recorded for an index; 0 (older than every drop) when none is. */
  bornAt(index: string): number {
    return this.#births.get(index) ?? 0;
  }

  /**
   * The birth of an index held here: recorded now (and saved) when it has none yet. Called
   * where an index comes to be on this node (a write or `_config` creating it, a peer's schema
   * adopted), so an index without a birth is one this node held before births were kept.
   */
  birthOf(index: string): number {
    const known = this.#births.get(index);
    if (known !== undefined) return known;
    const now = this.#nowMs();
    this.#births.set(index, now);
    this.#save().catch(() => {});
    return now;
  }

  /** Resolves once every change so far is on disk. */
  saved(): Promise<void> {
    return this.#saving;
  }

  /** Records the birth an adopted schema came with (an earlier one than this node's is kept). */
  async adopted(index: string, bornAtMs: number): Promise<void> {
    const known = this.#births.get(index);
    if (known !== undefined && known <= bornAtMs) return;
    this.#births.set(index, bornAtMs);
    await this.#save();
  }

  /** Whether an index of this name born at `bornAtMs` is one that was dropped. */
  isDropped(index: string, bornAtMs: number): boolean {
    const at = this.#drops.get(index);
    return at !== undefined && bornAtMs <= at;
  }

  /**
   * Merges markers another node sent; returns the indexes of `held` (those this node holds)
   * that they drop — born at or before their marker, or without a birth — whose births are
   * forgotten (the caller drops them).
   */
  async merge(drops: readonly IndexDrop[], held: readonly string[]): Promise<string[]> {
    let changed = false;
    for (const { index, atMs } of drops) {
      if ((this.#drops.get(index) ?? -1) >= atMs) continue;
      this.#drops.set(index, atMs);
      changed = true;
    }
    const doomed = held.filter((index) => this.isDropped(index, this.bornAt(index)));
    for (const index of doomed) this.#births.delete(index);
    if (this.#drops.size > MAX_DROP_MARKERS) {
      const oldest = [...this.#drops].sort((a, b) => a[1] - b[1]);
      for (const [index] of oldest.slice(0, this.#drops.size - MAX_DROP_MARKERS)) {
        this.#drops.delete(index);
      }
    }
    if (changed || doomed.length > 0) await this.#save();
    return doomed;
  }

  #save(): Promise<void> {
    const path = this.#path;
    if (path === undefined) return Promise.resolve();
    const text = JSON.stringify(
      {
        drops: Object.fromEntries(this.#drops),
        births: Object.fromEntries(this.#births),
      } satisfies Kept,
    );
    // Written whole, then renamed over the old file: a crash leaves one or the other.
    const write = async () => {
      await Deno.writeTextFile(`${path}.tmp`, text);
      await Deno.rename(`${path}.tmp`, path);
    };
    const next = this.#saving.then(write, write);
    this.#saving = next.catch(() => {});
    return next;
  }
}

/** Markers a peer sent, checked (a malformed list is a `MalformedFrameError`). */
export function parseIndexDrops(raw: unknown): IndexDrop[] {
  if (!Array.isArray(raw) || raw.length > MAX_DROP_MARKERS) {
    throw new MalformedFrameError("the index drops are not a bounded list");
  }
  return raw.map((item) => {
    const { index, atMs } = (item ?? {}) as Record<string, unknown>;
    if (typeof index !== "string" || index.length === 0 || index.length > MAX_INDEX_NAME_CHARS) {
      throw new MalformedFrameError("an index drop's index is not an index name");
    }
    if (typeof atMs !== "number" || !Number.isSafeInteger(atMs) || atMs < 0) {
      throw new MalformedFrameError("an index drop's time is not a count of ms");
    }
    return { index, atMs };
  });
}
