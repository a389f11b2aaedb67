/**
 * Blocks of postings as bytes: the `fts5` engine keeps each term's postings in blocks of at
 * most {@linkcode POSTINGS_PER_BLOCK} (Lucene's block size), one SQLite row each, instead of one
 * row per posting — a bulk then writes one row per term it touches, not one per posting, and a
 * search reads a term's list as a few blobs instead of thousands of rows.
 *
 * A block holds its postings in (rid, column) order, each as four unsigned LEB128 varints: the
 * rid's distance from the previous posting's (the first from the block's own first rid, kept in
 * its key), the column, the term's frequency there, and the column's length in that document.
 * Written here rather than taken from a library: the format is four varints, and the decoder
 * writes straight into the caller's typed arrays (no object per posting).
 *
 * @module
 */

/** Most postings in one block (Lucene's `ForUtil.BLOCK_SIZE`). */
export const POSTINGS_PER_BLOCK = 128;

/** Most bytes one varint takes (a rid distance below 2^53). */
const MAX_VARINT_BYTES = 8;

/** Varints per posting: rid distance, column, frequency, length. */
const VARINTS_PER_POSTING = 4;

/** Postings, column by column (the same index in each array is one posting). */
export interface PostingArrays {
  readonly rids: Float64Array | number[];
  readonly cols: Uint32Array | number[];
  readonly tfs: Uint32Array | number[];
  readonly lens: Uint32Array | number[];
}

/** Writes `value` (an integer ≥ 0) as a varint at `at`; returns the next free offset. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  // Arithmetic, not bit operators: a value may pass 2^31.
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** The most bytes postings `from` to `to` take as a block. */
function blockBytesAtMost(from: number, to: number): number {
  return (to - from) * VARINTS_PER_POSTING * MAX_VARINT_BYTES;
}

/**
 * Writes postings `from` (inclusive) to `to` (exclusive) of `postings` as a block into `out` at
 * `at`; returns where it ends. They must be in (rid, column) order and not below `previous`:
 * the block's first rid, or the last rid of the block these bytes are appended to.
 */
function writeBlock(
  out: Uint8Array,
  at: number,
  postings: PostingArrays,
  from: number,
  to: number,
  previous: number,
): number {
  for (let i = from; i < to; i++) {
    const rid = postings.rids[i]!;
    if (rid < previous) throw new RangeError(`postings out of rid order: ${rid} after ${previous}`);
    at = writeVarint(out, at, rid - previous);
    at = writeVarint(out, at, postings.cols[i]!);
    at = writeVarint(out, at, postings.tfs[i]!);
    at = writeVarint(out, at, postings.lens[i]!);
    previous = rid;
  }
  return at;
}

/**
 * Encodes blocks and statistics into one reused buffer, for statements that bind them (SQLite
 * copies a bound blob): a bulk writes a block or two per term, and allocating each one's bytes
 * (then trimming them) was a tenth of a shard's apply, profiled. What it returns is valid until
 * the next {@linkcode reset}.
 */
export class BlockEncoder {
  #buffer = new Uint8Array(64 * 1024);
  #at = 0;

  /** Starts the bytes of the next statement (what was returned before may be overwritten). */
  reset(): this {
    this.#at = 0;
    return this;
  }

  #room(bytes: number): Uint8Array {
    if (this.#at + bytes > this.#buffer.length) {
      // Earlier results keep the old buffer alive; new bytes go into a larger one.
      this.#buffer = new Uint8Array(Math.max(2 * this.#buffer.length, bytes));
      this.#at = 0;
    }
    return this.#buffer;
  }

  /**
   * Postings `from` to `to` as a block (see `writeBlock`; `previous` is the block's first rid by
   * default), after the bytes of `prefix` (a block whose last rid is `previous`).
   */
  block(
    postings: PostingArrays,
    from: number,
    to: number,
    previous: number = postings.rids[from]!,
    prefix?: Uint8Array,
  ): Uint8Array {
    const out = this.#room((prefix?.length ?? 0) + blockBytesAtMost(from, to));
    const start = this.#at;
    if (prefix !== undefined) out.set(prefix, start);
    const end = writeBlock(out, start + (prefix?.length ?? 0), postings, from, to, previous);
    this.#at = end;
    return out.subarray(start, end);
  }

  /** A term's statistics per column: four varints each (column + 1, df, tf, length). */
  stats(stats: ReadonlyMap<number, TermStat>): Uint8Array {
    const out = this.#room(stats.size * VARINTS_PER_POSTING * MAX_VARINT_BYTES);
    const start = this.#at;
    this.#at = writeStats(out, start, stats);
    return out.subarray(start, this.#at);
  }
}

/**
 * Decodes a block whose first rid is `firstRid` into `into` from index `offset`; returns the
 * index after its last posting.
 */
export function decodeBlock(
  data: Uint8Array,
  firstRid: number,
  into: {
    readonly rids: Float64Array;
    readonly cols: Uint32Array;
    readonly tfs: Uint32Array;
    readonly lens: Uint32Array;
  },
  offset: number,
): number {
  const reader = varintReader(data);
  let rid = firstRid;
  let i = offset;
  while (!reader.done()) {
    rid += reader.next();
    into.rids[i] = rid;
    into.cols[i] = reader.next();
    into.tfs[i] = reader.next();
    into.lens[i] = reader.next();
    i++;
  }
  return i;
}

/** Empty typed arrays for `count` postings. */
export function postingArrays(count: number): {
  readonly rids: Float64Array;
  readonly cols: Uint32Array;
  readonly tfs: Uint32Array;
  readonly lens: Uint32Array;
} {
  return {
    rids: new Float64Array(count),
    cols: new Uint32Array(count),
    tfs: new Uint32Array(count),
    lens: new Uint32Array(count),
  };
}

/** A term's statistics in one column (`-1`: any column, only `df` meaningful). */
export interface TermStat {
  df: number;
  maxTf: number;
  minLen: number;
}

/** Writes statistics (see {@linkcode BlockEncoder.stats}) into `out` at `at`; returns the end. */
function writeStats(out: Uint8Array, at: number, stats: ReadonlyMap<number, TermStat>): number {
  for (const [col, stat] of stats) {
    at = writeVarint(out, at, col + 1);
    at = writeVarint(out, at, Math.max(0, stat.df));
    at = writeVarint(out, at, stat.maxTf);
    at = writeVarint(out, at, stat.minLen);
  }
  return at;
}

/** The statistics {@linkcode BlockEncoder.stats} wrote. */
export function decodeStats(data: Uint8Array | null | undefined): Map<number, TermStat> {
  const stats = new Map<number, TermStat>();
  if (data === null || data === undefined) return stats;
  const reader = varintReader(data);
  while (!reader.done()) {
    const col = reader.next() - 1;
    stats.set(col, { df: reader.next(), maxTf: reader.next(), minLen: reader.next() });
  }
  return stats;
}

/** Reads varints one after another from `data`. */
function varintReader(data: Uint8Array): { next(): number; done(): boolean } {
  let at = 0;
  return {
    done: () => at >= data.length,
    next: () => {
      let byte = data[at++]!;
      if (byte < 0x80) return byte;
      let value = byte & 0x7f;
      let scale = 0x80;
      do {
        byte = data[at++]!;
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
      } while (byte >= 0x80);
      return value;
    },
  };
}
