import assert from "node:assert/strict";
import { CLUSTER_MICROSHARDS, HashRing, microshardOf } from "./ring.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => crypto.randomUUID() + i);

Deno.test("ring: the same membership gives the same owners, in any order", () => {
  const nodes = ids(5);
  const a = new HashRing(nodes);
  const b = new HashRing([...nodes].reverse());
  for (let shard = 0; shard < CLUSTER_MICROSHARDS; shard++) {
    assert.equal(a.ownerOfMicroshard(shard), b.ownerOfMicroshard(shard));
  }
});

Deno.test("ring: 256 virtual nodes spread microshards evenly over three nodes", () => {
  for (let round = 0; round < 20; round++) {
    const spread = new HashRing(ids(3)).spread();
    for (const [node, count] of spread) {
      // An even share is 341; 256 virtual nodes keep every node within ±30 %.
      assert.ok(count > 240 && count < 445, `node ${node} owns ${count} of ${CLUSTER_MICROSHARDS}`);
    }
  }
});

Deno.test("ring: a joining node takes microshards only for itself; others keep theirs", () => {
  const nodes = ids(3);
  const before = new HashRing(nodes);
  const joined = ids(1)[0]!;
  const after = new HashRing([...nodes, joined]);
  let moved = 0;
  for (let shard = 0; shard < CLUSTER_MICROSHARDS; shard++) {
    const owner = after.ownerOfMicroshard(shard);
    if (owner !== before.ownerOfMicroshard(shard)) {
      assert.equal(owner, joined, "a microshard moved between two old nodes");
      moved++;
    }
  }
  assert.ok(moved > 150 && moved < 380, `${moved} microshards moved to the new node`);
});

Deno.test("ring: a document's microshard depends only on its routing key", () => {
  assert.equal(microshardOf("doc-1"), microshardOf("doc-1"));
  const ring = new HashRing(ids(3));
  assert.equal(ring.ownerOf("doc-1"), ring.ownerOfMicroshard(microshardOf("doc-1")));
  assert.throws(() => new HashRing([]).ownerOf("x"), /no nodes/);
});
