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

Deno.test("ring: with zones, a slot's replicas are in different zones while zones are left; one zone is the plain walk", () => {
  const nodes = ids(6);
  // Three zones of two nodes each.
  const zones = new Map(nodes.map((node, i) => [node, `z${i % 3}`]));
  const zoned = new HashRing(nodes, { zones });
  const plain = new HashRing(nodes);
  const oneZone = new HashRing(nodes, { zones: new Map(nodes.map((node) => [node, "a"])) });
  let differs = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owners = zoned.ownersOfSlot(slot, 3);
    assert.equal(owners[0], plain.ownerOfSlot(slot), "led by the slot's owner");
    assert.equal(new Set(owners.map((node) => zones.get(node))).size, 3, `slot ${slot}`);
    // Four replicas in three zones: every zone holds one, the fourth is the next passed over.
    const four = zoned.ownersOfSlot(slot, 4);
    assert.equal(new Set(four).size, 4);
    assert.deepEqual(four.slice(0, 3), owners);
    assert.deepEqual(oneZone.ownersOfSlot(slot, 3), plain.ownersOfSlot(slot, 3));
    if (plain.ownersOfSlot(slot, 3).join() !== owners.join()) differs++;
  }
  // The plain walk puts two replicas in one zone for many slots: the zones change those.
  assert.ok(differs > 0, "zones changed no slot's replicas");
});
