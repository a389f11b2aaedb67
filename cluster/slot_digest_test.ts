import assert from "node:assert/strict";
import {
  bucketOf,
  compareEntries,
  differingBuckets,
  DIGEST_BUCKETS,
  EMPTY_BUCKET,
  slotDigest,
} from "./slot_digest.ts";
import { slotOf } from "../storage/slot.ts";
import { encodeStamp } from "../storage/hlc.ts";

const stamp = (ms: number, tag = "n1") => encodeStamp({ ms, counter: 0, tag });

function entries(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `d${i}`,
    stamp: stamp(1_000 + i),
    deleted: i % 7 === 0,
  }));
}

Deno.test("slotDigest: the same entries in any order give the same digest, an empty slot all empty buckets", () => {
  const list = entries(200);
  assert.deepEqual(slotDigest(list), slotDigest([...list].reverse()));
  assert.equal(slotDigest(list).length, DIGEST_BUCKETS);
  assert.deepEqual(slotDigest([]), Array(DIGEST_BUCKETS).fill(EMPTY_BUCKET));
});

Deno.test("differingBuckets: a newer stamp, a tombstone or a missing entry changes exactly its own bucket", () => {
  const list = entries(200);
  const base = slotDigest(list);
  const newer = list.map((e) => (e.id === "d42" ? { ...e, stamp: stamp(9_999) } : e));
  assert.deepEqual(differingBuckets(base, slotDigest(newer)), [bucketOf("d42")]);
  const deleted = list.map((e) => (e.id === "d43" ? { ...e, deleted: !e.deleted } : e));
  assert.deepEqual(differingBuckets(base, slotDigest(deleted)), [bucketOf("d43")]);
  const missing = list.filter((e) => e.id !== "d44");
  assert.deepEqual(differingBuckets(base, slotDigest(missing)), [bucketOf("d44")]);
  assert.deepEqual(differingBuckets(base, slotDigest(list)), []);
});

Deno.test("bucketOf: the ids of one slot spread over the buckets (the slot hash's low bits are mixed away)", () => {
  const ids: string[] = [];
  for (let i = 0; ids.length < 500; i++) if (slotOf(`id-${i}`) === 17) ids.push(`id-${i}`);
  const used = new Set(ids.map(bucketOf));
  assert.ok(used.size > DIGEST_BUCKETS * 0.9, `${used.size} of ${DIGEST_BUCKETS} buckets used`);
});

Deno.test("compareEntries: each side's newer or missing entries, ties change nothing", () => {
  const mine = [
    { id: "a", stamp: stamp(5), deleted: false }, // newer here
    { id: "b", stamp: stamp(1), deleted: false }, // newer there (a tombstone)
    { id: "c", stamp: stamp(3), deleted: false }, // the same write
    { id: "d", stamp: stamp(2), deleted: true }, // only here
  ];
  const theirs = [
    { id: "a", stamp: stamp(4), deleted: false },
    { id: "b", stamp: stamp(2), deleted: true },
    { id: "c", stamp: stamp(3), deleted: false },
    { id: "e", stamp: stamp(1), deleted: false }, // only there
  ];
  const { mineNewer, theirsNewer } = compareEntries(mine, theirs);
  assert.deepEqual(mineNewer.map((e) => e.id).sort(), ["a", "d"]);
  assert.deepEqual(theirsNewer.map((e) => e.id).sort(), ["b", "e"]);
  assert.equal(theirsNewer.find((e) => e.id === "b")?.deleted, true);
});
