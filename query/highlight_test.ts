import assert from "node:assert/strict";
import { Microshard } from "../storage/microshard.ts";
import type { EngineName } from "../storage/search_index.ts";
import { searchShards } from "./pipeline.ts";

const DOCS = [
  {
    id: "r1",
    doc: {
      title: "The Rust Programming Language",
      body: "Rust is a language for safe systems programming. ".repeat(8) +
        "Its borrow checker <b>prevents</b> data races & dangling pointers.",
      tags: ["rust", "systems"],
      status: "active",
    },
  },
  { id: "g1", doc: { title: "Go in Action", body: "Concurrency in Go", status: "draft" } },
];

async function withShards(engine: EngineName, fn: (shards: Microshard[]) => Promise<void>) {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const shards = await Promise.all(
    dirs.map((dir) => Microshard.open({ dir, defaultEngine: engine })),
  );
  try {
    await shards[0]!.write(DOCS.slice(0, 1).map((d) => ({ op: "put", index: "b", ...d })));
    await shards[1]!.write(DOCS.slice(1).map((d) => ({ op: "put", index: "b", ...d })));
    await fn(shards);
  } finally {
    for (const shard of shards) await shard.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`highlight (${engine}): matched words are marked in fragments of the asked fields`, async () => {
    await withShards(engine, async (shards) => {
      const answer = await searchShards(shards, "b", {
        query: "title:rust OR body:borrow OR body:checke* OR body:pointrs~1",
        highlight: { fields: ["title", "body"], fragment_size: 60 },
      });
      assert.equal(answer.hits.length, 1);
      const highlights = answer.hits[0]!._highlights as Record<string, string[]>;
      assert.deepEqual(highlights.title, ["The <em>Rust</em> Programming Language"]);
      const body = highlights.body!.join(" … ");
      assert.match(body, /<em>borrow<\/em> <em>checker<\/em>/);
      assert.match(body, /<em>pointers<\/em>/, "fuzzy within its distance");
      assert.ok(highlights.body!.every((f) => f.length <= 60 + 4 * 9 + 40), body);
      // The stored text is HTML-escaped around the tags by default.
      assert.match(body, /&lt;b&gt;prevents&lt;\/b&gt;/);
      assert.doesNotMatch(body, /<b>/);
    });
  });

  Deno.test(`highlight (${engine}): custom tags, no encoding, arrays and exact strings; excluded terms are not marked`, async () => {
    await withShards(engine, async (shards) => {
      const answer = await searchShards(shards, "b", {
        query: "tags:systems AND status:active AND -title:go AND language",
        highlight: {
          fields: ["tags", "status", "title"],
          pre_tag: "[",
          post_tag: "]",
          encoder: "none",
        },
      });
      const highlights = answer.hits[0]!._highlights as Record<string, string[]>;
      assert.deepEqual(highlights.tags, ["[systems]"]);
      assert.deepEqual(highlights.status, ["[active]"]);
      assert.deepEqual(highlights.title, ["The Rust Programming [Language]"]);
    });
  });

  Deno.test(`highlight (${engine}): a bad highlight request is a 400-class error naming what`, async () => {
    await withShards(engine, async (shards) => {
      const cases: Array<[unknown, RegExp]> = [
        ["title", /must be an object/],
        [{ fields: [] }, /list of 1 to 32 field names/],
        [{ fields: ["nope"] }, /unknown field "nope"/],
        [{ fields: ["title"], fragment_size: 0 }, /fragment_size/],
        [{ fields: ["title"], encoder: "xml" }, /encoder/],
        [{ fields: ["title"], colour: "red" }, /Unknown highlight option "colour"/],
        [{ fields: ["title"], pre_tag: 5 }, /pre_tag/],
      ];
      for (const [highlight, message] of cases) {
        await assert.rejects(
          searchShards(shards, "b", { query: "rust", highlight }),
          (error: Error) => error.name === "InvalidInputError" && message.test(error.message),
          JSON.stringify(highlight),
        );
      }
    });
  });
}
