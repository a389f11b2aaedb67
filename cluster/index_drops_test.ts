import assert from "node:assert/strict";
import { IndexDrops, MAX_DROP_MARKERS, parseIndexDrops } from "./index_drops.ts";
import { MalformedFrameError } from "./errors.ts";

Deno.test("index drops: an index born before a drop of its name is dropped, one born after lives; kept over a reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 1_000;
    const drops = await IndexDrops.open(dir, { nowMs: () => now });
    assert.equal(drops.birthOf("books"), 1_000);
    assert.equal(drops.birthOf("books"), 1_000, "a birth is recorded once");
    now = 2_000;
    assert.equal(drops.birthOf("films"), 2_000);
    // Another node dropped books at 1,500: books (born 1,000) goes, films (2,000) stays.
    const held = ["books", "films", "legacy"];
    assert.deepEqual(await drops.merge([{ index: "books", atMs: 1_500 }], held), ["books"]);
    // An index held without a birth (held before births were kept) is older than any drop.
    assert.deepEqual(await drops.merge([{ index: "legacy", atMs: 1 }], ["films", "legacy"]), [
      "legacy",
    ]);
    assert.equal(drops.isDropped("books", 1_000), true);
    assert.equal(drops.isDropped("books", 1_500), true, "born at the drop: the dropped one");
    assert.equal(drops.isDropped("books", 1_501), false, "created again after the drop");
    assert.equal(drops.isDropped("films", 2_000), false);
    // An older marker of the same index changes nothing; the next books is born now.
    assert.deepEqual(await drops.merge([{ index: "books", atMs: 10 }], ["films"]), []);
    now = 3_000;
    assert.equal(drops.birthOf("books"), 3_000);
    await drops.adopted("maps", 2_500);
    await drops.saved();
    const again = await IndexDrops.open(dir, { nowMs: () => 9_999 });
    assert.deepEqual(again.list(), [{ index: "books", atMs: 1_500 }, { index: "legacy", atMs: 1 }]);
    assert.equal(again.birthOf("books"), 3_000);
    assert.equal(again.birthOf("films"), 2_000);
    assert.equal(again.birthOf("maps"), 2_500);
    assert.deepEqual(await again.merge([{ index: "maps", atMs: 9_999 }], ["maps"]), ["maps"]);
    assert.equal(again.isDropped("maps", 2_500), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("index drops: a peer's malformed markers are refused", () => {
  assert.deepEqual(parseIndexDrops([{ index: "books", atMs: 5 }]), [{ index: "books", atMs: 5 }]);
  const bad: unknown[] = [
    "x",
    [{ index: "", atMs: 1 }],
    [{ index: "books", atMs: -1 }],
    [{ index: "books", atMs: 1.5 }],
    [{ index: 7, atMs: 1 }],
    [null],
    Array.from({ length: MAX_DROP_MARKERS + 1 }, () => ({ index: "a", atMs: 1 })),
  ];
  for (const value of bad) {
    assert.throws(
      () => parseIndexDrops(value),
      MalformedFrameError,
      JSON.stringify(value).slice(0, 80),
    );
  }
});
