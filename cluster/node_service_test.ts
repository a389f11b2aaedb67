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

Deno.test("node service: anti-entropy messages reach the node's anti-entropy, and are refused (not failed) outside a cluster", async () => {
  const ask = async (routing: (() => never) | undefined, msg: Record<string, unknown>) => {
    const service = createNodeService(
      {} as NodeOrchestrator,
      routing === undefined ? {} : { routing },
    );
    const reply = service.receive(msg as never, ctx) as unknown as { detached: Promise<unknown> };
    return await reply.detached;
  };
  const digest = { type: "entropyDigest", index: "books", slot: 3 };
  const diff = { type: "entropyDiff", index: "books", slot: 3, buckets: [1], entries: [] };
  for (const msg of [digest, diff]) {
    assert.deepEqual(await ask(undefined, msg), {
      refused: "this node takes no part in anti-entropy",
    });
  }
  const seen: unknown[] = [];
  const routing = () =>
    ({
      antiEntropy: {
        serveDigest: (raw: unknown) => (seen.push(raw), Promise.resolve({ digest: [] })),
        serveDiff: (
          raw: unknown,
        ) => (seen.push(raw), Promise.resolve({ newer: [], wanted: [], more: false })),
      },
    }) as never;
  assert.deepEqual(await ask(routing, digest), { digest: [] });
  assert.deepEqual(await ask(routing, diff), { newer: [], wanted: [], more: false });
  assert.deepEqual(seen, [digest, diff]);
});
