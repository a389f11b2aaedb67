/**
 * Slots that move before ownership flips, with real processes on loopback: documents written
 * to one node stay reachable while a second and a third join and slots stream to them; after
 * `slots_moving` reaches 0 every id answers 200 with its latest content through every node,
 * `*` counts each document once (also while slots move), deletes stay deleted, and a node that
 * leaves (`_leave`) hands every slot off without losing one.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "slot-move-test-secret";
const DOCS = 1_500;

function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      // One owner per slot: the point is a slot moving whole from one owner to another.
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "1",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "8",
    },
  });
}

interface Health {
  status: string;
  total_nodes: number;
  connected_nodes: number;
  rebalancing: { slots_moving: number; slots_total: number };
}

/** Resolves once every node is green with `total` members and no slot moving. */
function settled(nodes: readonly ServerProcess[], total: number, what: string) {
  return Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const health = (await call(node.url, "GET", "/_cluster/health")).body as Health;
        return health.status === "green" && health.total_nodes === total &&
          health.connected_nodes === total && health.rebalancing.slots_moving === 0;
      },
      90_000,
      `${what}: ${node.url} green with ${total} nodes and no slot moving`,
    )
  ));
}

async function slotsOf(node: ServerProcess): Promise<number[]> {
  const answer = await call(node.url, "GET", "/_cluster/nodes");
  return (answer.body as { nodes: Array<{ slots: number }> }).nodes.map((n) => n.slots);
}

/** Every id answers with `expected(id)` (or 404 when undefined) through `node`. */
async function checkAll(
  node: ServerProcess,
  expected: (i: number) => number | undefined,
): Promise<string[]> {
  const problems: string[] = [];
  for (let at = 0; at < DOCS; at += 50) {
    await Promise.all(Array.from({ length: Math.min(50, DOCS - at) }, async (_, k) => {
      const i = at + k;
      const answer = await call(node.url, "GET", `/api/books/document/d${i}`);
      const want = expected(i);
      if (want === undefined) {
        if (answer.status !== 404) problems.push(`d${i}: ${answer.status}, expected 404`);
        return;
      }
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      if (answer.status !== 200 || n !== want) {
        problems.push(`d${i}: ${answer.status} n=${n}, expected ${want}`);
      }
    }));
  }
  return problems;
}

async function total(node: ServerProcess): Promise<number> {
  const answer = await call(node.url, "POST", "/api/books/search", { query: "*", limit: 1 });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { total_hits: number; failed_shards: number };
  assert.equal(body.failed_shards, 0, JSON.stringify(body));
  return body.total_hits;
}

Deno.test({
  name:
    "slot moves: joins stream slots before they flip — nothing 404s, nothing doubles, deletes stay; a leave hands every slot off",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-slot-move-" });
      const running: ServerProcess[] = [];
      try {
        const a = await startNode(`${root}/a`, "a", []);
        running.push(a);
        const bulk = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", bulk);
        assert.equal((written.body as { items_written: number }).items_written, DOCS);
        const seed = clusterAddress(a);
        const b = await startNode(`${root}/b`, "b", [seed]);
        running.push(b);
        let started = performance.now();
        await settled([a, b], 2, "a and b");
        console.log(`a → a, b: settled in ${Math.round(performance.now() - started)} ms`);
        assert.deepEqual(await checkAll(b, (i) => i), []);
        assert.equal(await total(a), DOCS);
        const two = await slotsOf(a);
        assert.equal(two.length, 2);
        assert.ok(two.every((n) => n > 300), `both serve slots: ${two}`);

        const c = await startNode(`${root}/c`, "c", [seed]);
        running.push(c);
        started = performance.now();
        // While slots move, every search through any node counts each document once.
        const totals: number[] = [];
        let moving = true;
        const searching = (async () => {
          for (let i = 0; moving; i++) totals.push(await total([a, b][i % 2]!));
        })();
        await settled([a, b, c], 3, "three nodes");
        moving = false;
        await searching;
        assert.ok(totals.length > 3, `searched during the move: ${totals.length}`);
        // Every search counts every document exactly once, moving slots included.
        assert.deepEqual(totals.filter((n) => n !== DOCS), [], `totals during the move: ${totals}`);
        console.log(`a, b → a, b, c: settled in ${Math.round(performance.now() - started)} ms`);
        // Update every document through c, delete every third through b.
        const update = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i + 1 } }));
        const updated = await call(c.url, "POST", "/api/books/_bulk", update);
        assert.equal((updated.body as { items_written: number }).items_written, DOCS);
        const gone = (i: number) => i % 3 === 0;
        const doomed = Array.from({ length: DOCS }, (_, i) => i).filter(gone);
        for (let at = 0; at < doomed.length; at += 20) {
          await Promise.all(
            doomed.slice(at, at + 20).map(async (i) => {
              const answer = await call(b.url, "DELETE", `/api/books/document?id=d${i}`);
              assert.equal(answer.status, 200, JSON.stringify(answer.body));
            }),
          );
        }
        const kept = (i: number) => gone(i) ? undefined : i + 1;
        for (const node of [a, b, c]) {
          assert.deepEqual(await checkAll(node, kept), []);
          assert.equal(await total(node), DOCS - Math.ceil(DOCS / 3));
        }

        // b leaves: every slot is handed off, nothing is lost.
        const idB = ((await call(b.url, "GET", "/_cluster/health")).body as { node_id: string })
          .node_id;
        // A bad wait is refused and changes nothing; then the leave is answered once b has left
        // (200), or 202 while it is still leaving when the wait runs out.
        const bad = await call(a.url, "POST", `/_cluster/nodes/${idB}/_leave?wait_ms=soon`);
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        const leave = await call(a.url, "POST", `/_cluster/nodes/${idB}/_leave`);
        assert.ok(leave.status === 200 || leave.status === 202, JSON.stringify(leave.body));
        assert.equal(
          (leave.body as { state: string }).state,
          leave.status === 200 ? "left" : "leaving",
        );
        await waitUntil(
          async () => {
            const listing = (await call(a.url, "GET", "/_cluster/nodes")).body as {
              nodes: Array<{ node_id: string; state: string }>;
            };
            return listing.nodes.find((n) => n.node_id === idB)?.state === "left";
          },
          90_000,
          "b has left",
        );
        await settled([a, c], 2, "after b left");
        await b.stop("SIGTERM");
        running.splice(running.indexOf(b), 1);
        for (const node of [a, c]) {
          assert.deepEqual(await checkAll(node, kept), []);
          assert.equal(await total(node), DOCS - Math.ceil(DOCS / 3));
        }
      } finally {
        await Promise.all(running.map((node) => node.stop("SIGKILL")));
        await Deno.remove(root, { recursive: true });
      }
    }),
});
