/**
 * A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases", 2014): physical milliseconds plus a logical
 * counter plus the node's tag, so stamps made on different nodes compare, and a stamp made
 * after observing another is always greater than it, whatever the two wall clocks say.
 *
 * A {@linkcode Stamp} is one fixed-width string that compares as the stamps do
 * (`"0192d3b4c5a6-000003-n1"`: 12 hex digits of ms, 6 of the counter, then the tag), so
 * storage compares stamps with `<` and keeps them in document headers and tombstones as
 * they are (Cassandra's cell timestamps, which decide last-writer-wins per document).
 *
 * It lives in `storage/` (not `node/`) because the shard stamps a write inside its
 * exclusive queue, where it has read the stored stamp it must beat; `node/` and `cluster/`
 * import it from here.
 *
 * @example
 * ```ts
 * import { HybridLogicalClock } from "./hlc.ts";
 * const a = new HybridLogicalClock({ tag: "n1", nowMs: () => 1_000 });
 * const b = new HybridLogicalClock({ tag: "n2", nowMs: () => 5 }); // its clock is behind
 * const first = a.now();
 * b.observe(first);
 * if (!(b.now() > first)) throw new Error("a stamp after observing must be greater");
 * ```
 *
 * @module
 */

/** A hybrid-logical-clock stamp: a string that compares (`<`) as the stamps do. */
export type Stamp = string;

/** Hex digits of a stamp's physical part (48 bits of milliseconds: until the year 10889). */
const MS_DIGITS = 12;
/** Hex digits of a stamp's logical counter. */
const COUNTER_DIGITS = 6;
/** The largest logical counter; past it the clock moves its physical part on by 1 ms. */
const MAX_COUNTER = 16 ** COUNTER_DIGITS - 1;
const STAMP_PATTERN = /^([0-9a-f]{12})-([0-9a-f]{6})-(.*)$/;

/** A stamp's parts. */
export interface StampParts {
  readonly ms: number;
  readonly counter: number;
  readonly tag: string;
}

/** Encodes a stamp's parts. */
export function encodeStamp(parts: StampParts): Stamp {
  return `${parts.ms.toString(16).padStart(MS_DIGITS, "0")}-${
    parts.counter.toString(16).padStart(COUNTER_DIGITS, "0")
  }-${parts.tag}`;
}

/** Decodes a stamp; `undefined` when it is not one. */
/**
 * The stamp of a document stored before stamps were: older than every stamped write, newer
 * than nothing (a moving slot's stream, read repair and anti-entropy give it to such copies).
 */
export const UNSTAMPED: Stamp = encodeStamp({ ms: 0, counter: 0, tag: "" });

export function decodeStamp(stamp: string): StampParts | undefined {
  const match = STAMP_PATTERN.exec(stamp);
  if (match === null) return undefined;
  return { ms: parseInt(match[1]!, 16), counter: parseInt(match[2]!, 16), tag: match[3]! };
}

/** Whether `value` is a well-formed stamp. */
export function isStamp(value: unknown): value is Stamp {
  return typeof value === "string" && value.length <= 256 && STAMP_PATTERN.test(value);
}

/** Options of {@linkcode HybridLogicalClock}. */
export interface HybridLogicalClockOptions {
  /** This node's tag, the last part of its stamps (the tie-break between nodes). */
  readonly tag: string;
  /** The wall clock, in ms since the epoch; `Date.now` by default (injected by tests). */
  readonly nowMs?: () => number;
}

/** A node-local hybrid logical clock. */
export class HybridLogicalClock {
  readonly tag: string;
  readonly #nowMs: () => number;
  #ms = 0;
  #counter = 0;

  constructor(options: HybridLogicalClockOptions) {
    this.tag = options.tag;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** A new stamp, greater than every stamp this clock made or observed. */
  now(): Stamp {
    const wall = this.#nowMs();
    if (wall > this.#ms) {
      this.#ms = wall;
      this.#counter = 0;
    } else if (this.#counter < MAX_COUNTER) {
      this.#counter++;
    } else {
      this.#ms++;
      this.#counter = 0;
    }
    return encodeStamp({ ms: this.#ms, counter: this.#counter, tag: this.tag });
  }

  /** Takes in a stamp seen elsewhere (a stored document's, a peer's): later stamps beat it. */
  observe(stamp: Stamp | undefined): void {
    if (stamp === undefined) return;
    const parts = decodeStamp(stamp);
    if (parts === undefined) return;
    if (parts.ms > this.#ms || (parts.ms === this.#ms && parts.counter > this.#counter)) {
      this.#ms = parts.ms;
      this.#counter = parts.counter;
    }
  }
}
