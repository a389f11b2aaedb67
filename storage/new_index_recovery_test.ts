/**
 * The first write of an index a shard does not hold yet: the index's engine is created after
 * the batch is in KV and before the batch is applied to it. A crash in between must leave the
 * engine behind KV (so the next open catches it up), never marked as having applied the batch.
 */

import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`microshard (${engine}): a new index whose first batch never reached its engine catches up at the next open`, async () => {
    const dir = await Deno.makeTempDir();
    let failing = true;
    // The batch's apply and its immediate catch-up both fail: KV holds the batch, the
    // engine does not — as when the process dies between the two.
    const faults = {
      beforeIndexApply: () => {
        if (failing) throw new Error("the process died here");
      },
    };
    let shard = await Microshard.open({ dir, faults, defaultEngine: engine });
    try {
      await shard.write([{ op: "put", index: "other", id: "o", doc: { n: 0 } }]).catch(() => {});
      const [first] = await shard.write([
        { op: "put", index: "books", id: "b1", doc: { title: "first book" } },
      ]);
      assert.equal(first?.ok, false, "the apply failed");
      await shard.close();
      failing = false;
      shard = await Microshard.open({ dir, faults, defaultEngine: engine });
      assert.equal((await shard.get("books", "b1"))?.doc.title, "first book");
      const found = await shard.search("books", { kind: "term", field: "title", term: "first" }, {
        limit: 10,
        offset: 0,
      });
      assert.deepEqual(found.hits.map((hit) => hit.id), ["b1"], "searchable after the open");
    } finally {
      await shard.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
