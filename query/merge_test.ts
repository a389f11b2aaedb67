import assert from "node:assert/strict";
import { SeededRandom, testSeed } from "../testing/random.ts";
import { compareHits, mergedPage, mergePages } from "./merge.ts";
import type { SortSpec } from "../storage/search_index.ts";

type Hit = { id: string; score: number; sortValues?: Array<string | number | null> };

Deno.test("merge: the lazy k-way merge equals sorting everything, for scores and sort keys", () => {
  const seed = testSeed("merge");
  const random = new SeededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const sort: SortSpec[] = random.int(0, 1) === 0
      ? []
      : [{ field: "n", order: random.pick(["asc", "desc"]) }];
    const pages = Array.from({ length: random.int(1, 5) }, (_, p) => {
      const hits: Hit[] = Array.from({ length: random.int(0, 20) }, (_, i) => ({
        id: `p${p}-${i}`,
        score: random.int(0, 5),
        ...(sort.length === 0
          ? {}
          : { sortValues: [random.int(0, 4) === 0 ? null : random.int(0, 9)] }),
      }));
      // Engines return pages in order.
      return {
        total: hits.length + random.int(0, 10),
        hits: hits.sort((a, b) => compareHits(a, b, sort)),
      };
    });
    const offset = random.int(0, 10);
    const limit = random.int(0, 30);
    const everything = pages.flatMap((page) => page.hits).sort((a, b) => compareHits(a, b, sort));
    const expected = everything.slice(offset, offset + limit).map((hit) => hit.id);
    const merged = mergePages(pages, { limit, offset, sort });
    assert.deepEqual(merged.hits.map((hit) => hit.id), expected, `seed ${seed}, round ${round}`);
    assert.equal(merged.total, pages.reduce((sum, page) => sum + page.total, 0));
  }
});

Deno.test("merge: mergedPage produces hits only as they are read", () => {
  let compared = 0;
  const pages = [0, 1, 2].map((p) => ({
    hits: Array.from({ length: 1_000 }, (_, i) => ({
      id: `p${p}-${String(i).padStart(4, "0")}`,
      get score() {
        compared++;
        return 1_000 - i;
      },
    })),
  }));
  const iterator = mergedPage(pages, { limit: 3_000, offset: 0, sort: [] });
  const first = iterator.next();
  assert.equal(first.done, false);
  const afterFirst = compared;
  for (let i = 0; i < 10; i++) iterator.next();
  // Ten more hits cost a few comparisons each, not another pass over everything.
  assert.ok(compared - afterFirst < 200, `${compared - afterFirst} score reads for ten hits`);
});
