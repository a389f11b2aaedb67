import assert from "node:assert/strict";
import {
  BlockEncoder,
  decodeBlock,
  decodeStats,
  type PostingArrays,
  postingArrays,
} from "./_posting_blocks.ts";

/** A block of postings `from` to `to`, from an encoder of its own (a copy of its bytes). */
function encodeBlock(postings: PostingArrays, from: number, to: number, previous?: number) {
  return new BlockEncoder().reset().block(postings, from, to, previous).slice();
}

Deno.test("posting blocks: a block decodes to the postings it was written from, rids past 2^31 included", () => {
  const postings = {
    rids: [5, 5, 6, 300, 2 ** 33 + 7, 2 ** 52],
    cols: [0, 3, 1, 200, 0, 15],
    tfs: [1, 2, 70_000, 1, 3, 1],
    lens: [4, 9, 70_000, 1, 2 ** 31 + 1, 6],
  };
  // From the second posting on: a block's first rid need not be the list's.
  const block = encodeBlock(postings, 1, postings.rids.length);
  const decoded = postingArrays(8);
  assert.equal(decodeBlock(block, 5, decoded, 2), 7);
  assert.deepEqual([...decoded.rids.slice(2, 7)], postings.rids.slice(1));
  assert.deepEqual([...decoded.cols.slice(2, 7)], postings.cols.slice(1));
  assert.deepEqual([...decoded.tfs.slice(2, 7)], postings.tfs.slice(1));
  assert.deepEqual([...decoded.lens.slice(2, 7)], postings.lens.slice(1));
  // Small distances and values take one byte each.
  assert.equal(
    encodeBlock({ rids: [1, 2], cols: [0, 0], tfs: [1, 1], lens: [3, 3] }, 0, 2).length,
    8,
  );
});

Deno.test("posting blocks: postings out of rid order are refused", () => {
  assert.throws(
    () => encodeBlock({ rids: [4, 3], cols: [0, 0], tfs: [1, 1], lens: [1, 1] }, 0, 2),
    RangeError,
  );
});

Deno.test("posting blocks: the reused encoder appends to a block as one block of all would be, and keeps two results until its reset, past its buffer's size too", () => {
  const count = 5_000; // 5,000 postings of up to 14 bytes: past the encoder's first 64 KiB
  const postings = {
    rids: Array.from({ length: count }, (_, i) => i * 1_000_003),
    cols: Array.from({ length: count }, (_, i) => i % 7),
    tfs: Array.from({ length: count }, (_, i) => 1 + (i % 300)),
    lens: Array.from({ length: count }, (_, i) => 1 + i),
  };
  const stats = new Map([[-1, { df: 3, maxTf: 0, minLen: 0 }], [2, {
    df: 2,
    maxTf: 9,
    minLen: 4,
  }]]);
  const encoder = new BlockEncoder();
  const prefix = encodeBlock(postings, 0, 2);
  const block = encoder.reset().block(postings, 2, count, postings.rids[1], prefix);
  const statBytes = encoder.stats(stats); // a second result before the next reset
  assert.deepEqual([...block], [...encodeBlock(postings, 0, count)]);
  const decoded = postingArrays(count);
  assert.equal(decodeBlock(block, 0, decoded, 0), count);
  assert.deepEqual([...decoded.rids], postings.rids);
  assert.deepEqual(decodeStats(statBytes), stats);
});
