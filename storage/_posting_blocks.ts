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

/**
 * The postings `from` (inclusive) to `to` (exclusive) of `postings` as one block. They must be
 * in (rid, column) order and not below `previous`: the block's first rid (by default
 * `postings.rids[from]`), or the last rid of the block these bytes are appended to.
 */
export function encodeBlock(
  postings: PostingArrays,
  from: number,
  to: number,
  previous: number = postings.rids[from]!,
): Uint8Array {
  const out = new Uint8Array((to - from) * VARINTS_PER_POSTING * MAX_VARINT_BYTES);
  let at = 0;
  for (let i = from; i < to; i++) {
    const rid = postings.rids[i]!;
    if (rid < previous) throw new RangeError(`postings out of rid order: ${rid} after ${previous}`);
    at = writeVarint(out, at, rid - previous);
    at = writeVarint(out, at, postings.cols[i]!);
    at = writeVarint(out, at, postings.tfs[i]!);
    at = writeVarint(out, at, postings.lens[i]!);
    previous = rid;
  }
  return out.slice(0, at);
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
  let at = 0;
  let rid = firstRid;
  let i = offset;
  const read = (): number => {
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
  };
  while (at < data.length) {
    rid += read();
    into.rids[i] = rid;
    into.cols[i] = read();
    into.tfs[i] = read();
    into.lens[i] = read();
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
