import assert from "node:assert/strict";
import type { ActorContext } from "../actors/types.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import { createNodeService, type NodeServiceMsg } from "./node_service.ts";

// The node service over a stand-in orchestrator: what it checks of a peer's shard query before
// the shards see it (the real service over libp2p runs in tests/cluster_test.ts).

const ctx = { detach: (work: Promise<unknown>) => ({ detached: work }) } as unknown as ActorContext<
  NodeServiceMsg
>;

function serviceOver(asked: unknown[]) {
  const node = {
    shardCount: 1,
    schema: () => ({ schema: { version: 1, fields: { title: { type: "text" } } }, engine: "fts5" }),
    shardPages: (
      query: unknown,
    ) => (asked.push(query), Promise.resolve({ pages: [], totalShards: 1 })),
  } as unknown as NodeOrchestrator;
  return createNodeService(node);
}

async function shardPages(asked: unknown[], query: Record<string, unknown>) {
  const reply = serviceOver(asked).receive(
    {
      type: "shardPages",
      query: { index: "books", limit: 10, sort: [], facets: [], ...query },
    } as never,
    ctx,
  ) as unknown as { detached: Promise<unknown> };
  return await reply.detached;
}

Deno.test("node service: a peer's shard query with nonsense statistics or ranking never reaches the shards", async () => {
  const asked: unknown[] = [];
  const plan = { kind: "term", field: null, term: "rust" };
  const stats = { docCount: 3, fields: [["title", 3, 9]], docFreqs: [['[null,"rust"]', 1]] };
  await shardPages(asked, { plan, stats, ranking: { k1: 1.2, b: 0.75, boosts: [["title", 2]] } });
  assert.equal(asked.length, 1, "a well-formed query is run");
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ stats: { ...stats, docCount: -1 } }, /document count/],
    [{ stats: { ...stats, docFreqs: [['[null,"rust"]', 99]] } }, /document frequency/],
    [{ ranking: { k1: "fast", b: 0.75 } }, /"k1" must be a number/],
    [{ ranking: { k1: 1, b: 0.75, boosts: [["nope", 2]] } }, /"nope" does not exist/],
  ];
  for (const [part, message] of refused) {
    await assert.rejects(shardPages(asked, { plan, ...part }), message);
  }
  assert.equal(asked.length, 1, "no refused query reached the shards");
});
