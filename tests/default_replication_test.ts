/**
 * The default `replication_factor` (3, effectively min(3, members)) on one and two nodes, with
 * real processes on loopback: a node alone holds one copy of every slot and acknowledges a write
 * by itself (a quorum of 1 of 1); once a second node joins, both hold every slot and a write is acknowledged by both
 * (the default `write_quorum` is a majority of the slot's owners: 2 of 2). With one of the two
 * SIGKILLed every read and search is still answered by the other, and every write answers 503
 * (the quorum cannot be met); the copy it missed is hinted and reaches it when it returns.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "default-replication-test-secret";
const DOCS = 300;

/** A node with the default replication settings (nothing about replication is set). */
function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

interface Health {
  status: string;
  connected_nodes: number;
  total_nodes: number;
  rebalancing: { slots_moving: number };
}

async function health(node: ServerProcess): Promise<Health> {
  return (await call(node.url, "GET", "/_cluster/health")).body as Health;
}

async function slotsPerNode(node: ServerProcess): Promise<number[]> {
  const answer = await call(node.url, "GET", "/_cluster/nodes");
  return (answer.body as { nodes: Array<{ slots: number }> }).nodes.map((n) => n.slots);
}

/** Resolves once `nodes` are green with `total` members, nothing moving, each holding every slot. */
function settled(nodes: readonly ServerProcess[], total: number, what: string) {
  return Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const h = await health(node);
        if (h.status !== "green" || h.connected_nodes !== total) return false;
        const slots = await slotsPerNode(node);
        return h.rebalancing.slots_moving === 0 && slots.length === total &&
          slots.every((count) => count === 1_024);
      },
      120_000,
      `${what}: ${node.url} green with ${total} nodes, each holding every slot`,
    )
  ));
}

/** The ids of `d0` … that do not answer 200 with `n === i` through `node`. */
async function unreadable(node: ServerProcess): Promise<string[]> {
  const problems: string[] = [];
  for (let at = 0; at < DOCS; at += 50) {
    await Promise.all(Array.from({ length: Math.min(50, DOCS - at) }, async (_, k) => {
      const i = at + k;
      if (i === 1) return; // d1 is the one the test rewrites
      const answer = await call(node.url, "GET", `/api/books/document/d${i}`);
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      if (answer.status !== 200 || n !== i) problems.push(`d${i}: ${answer.status} n=${n}`);
    }));
  }
  return problems;
}

async function put(node: ServerProcess, id: string, n: number) {
  return await call(node.url, "PUT", "/api/books/document", { id, doc: { n } });
}

async function nOf(node: ServerProcess, id: string): Promise<number | undefined> {
  const answer = await call(node.url, "GET", `/api/books/document/${id}`);
  return (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
}

Deno.test({
  name:
    "default replication: a node alone acknowledges by itself; two nodes both hold every slot, one down keeps every read and refuses writes (503) until it is back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-default-rf-" });
      const running = new Set<ServerProcess>();
      try {
        const a = await startNode(`${root}/a`, "a", []);
        running.add(a);
        // Alone: one copy of each slot, a write acknowledged by this node (1 of 1; with one owner
        // there are no copies, and the answer carries no replicas_acknowledged).
        const bulk = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", bulk);
        assert.equal((written.body as { items_written: number }).items_written, DOCS);
        const alone = await put(a, "d1", 1);
        assert.equal(alone.status, 200, JSON.stringify(alone.body));
        assert.deepEqual(await slotsPerNode(a), [1_024]);

        // Two members: every slot on both, a write acknowledged by both.
        let b = await startNode(`${root}/b`, "b", [clusterAddress(a)]);
        running.add(b);
        await settled([a, b], 2, "a and b");
        assert.deepEqual(await unreadable(b), []);
        const both = await put(b, "d1", 1);
        assert.equal(both.status, 200, JSON.stringify(both.body));
        assert.equal((both.body as { replicas_acknowledged: number }).replicas_acknowledged, 2);

        // b is lost: a answers every read and search alone; a write cannot reach 2 of 2.
        await b.stop("SIGKILL");
        running.delete(b);
        await waitUntil(
          async () => (await health(a)).connected_nodes === 1,
          30_000,
          "a sees b lost",
        );
        assert.deepEqual(await unreadable(a), []);
        const search = await call(a.url, "POST", "/api/books/search", { query: "*", limit: 0 });
        assert.equal(search.status, 200, JSON.stringify(search.body));
        const found = search.body as { total_hits: number; failed_shards: number };
        assert.deepEqual([found.total_hits, found.failed_shards], [DOCS, 0]);
        const refused = await put(a, "d1", -1);
        assert.equal(refused.status, 503, JSON.stringify(refused.body));
        assert.match(
          (refused.body as { details: string }).details,
          /1 of 2 replicas took it, the write quorum is 2/,
        );

        // b returns on its data: the copy it missed arrives by its hint; writes reach 2 again.
        b = await startNode(`${root}/b`, "b", [clusterAddress(a)]);
        running.add(b);
        await settled([a, b], 2, "b back");
        await waitUntil(async () => (await nOf(b, "d1")) === -1, 30_000, "b holds the hinted d1");
        const again = await put(a, "d2", 2);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal((again.body as { replicas_acknowledged: number }).replicas_acknowledged, 2);
      } finally {
        await Promise.all([...running].map((node) => node.stop("SIGKILL")));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
