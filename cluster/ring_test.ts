import assert from "node:assert/strict";
import { CLUSTER_SLOTS, HashRing, slotOf } from "./ring.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => crypto.randomUUID() + i);

Deno.test("ring: the same membership gives the same owners, in any order", () => {
  const nodes = ids(5);
  const a = new HashRing(nodes);
  const b = new HashRing([...nodes].reverse());
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    assert.equal(a.ownerOfSlot(slot), b.ownerOfSlot(slot));
  }
});

Deno.test("ring: 256 virtual nodes spread slots evenly over three nodes", () => {
  for (let round = 0; round < 20; round++) {
    const spread = new HashRing(ids(3)).spread();
    for (const [node, count] of spread) {
      // An even share is 341; 256 virtual nodes keep every node within ±30 %.
      assert.ok(count > 240 && count < 445, `node ${node} owns ${count} of ${CLUSTER_SLOTS}`);
    }
  }
});

Deno.test("ring: a joining node takes slots only for itself; others keep theirs", () => {
  const nodes = ids(3);
  const before = new HashRing(nodes);
  const joined = ids(1)[0]!;
  const after = new HashRing([...nodes, joined]);
  let moved = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owner = after.ownerOfSlot(slot);
    if (owner !== before.ownerOfSlot(slot)) {
      assert.equal(owner, joined, "a slot moved between two old nodes");
      moved++;
    }
  }
  assert.ok(moved > 150 && moved < 380, `${moved} slots moved to the new node`);
});

Deno.test("ring: a document's slot depends only on its routing key", () => {
  assert.equal(slotOf("doc-1"), slotOf("doc-1"));
  const ring = new HashRing(ids(3));
  assert.equal(ring.ownerOf("doc-1"), ring.ownerOfSlot(slotOf("doc-1")));
  assert.throws(() => new HashRing([]).ownerOf("x"), /no nodes/);
});

Deno.test("ring: a slot's preference list is distinct nodes, led by its owner, stable as nodes join", () => {
  const nodes = ids(5);
  const ring = new HashRing(nodes);
  const grown = new HashRing([...nodes, "zz-new"]);
  let kept = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owners = ring.ownersOfSlot(slot, 3);
    assert.equal(owners.length, 3);
    assert.equal(new Set(owners).size, 3);
    assert.equal(owners[0], ring.ownerOfSlot(slot));
    assert.deepEqual(ring.ownersOfSlot(slot, 1), [ring.ownerOfSlot(slot)]);
    const after = grown.ownersOfSlot(slot, 3);
    // A join takes at most one place in a list: the other owners stay owners.
    if (owners.filter((node) => after.includes(node)).length >= 2) kept++;
  }
  assert.equal(kept, CLUSTER_SLOTS);
  assert.equal(new HashRing(ids(2)).ownersOfSlot(7, 3).length, 2, "min(RF, members)");
});
