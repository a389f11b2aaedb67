/**
 * Replication with real processes on loopback (issue 16): three nodes with
 * `replication_factor` 3 each hold every slot once its moves are done; a write answers how
 * many replicas took it; after one node is SIGKILLed every id still answers 200 with its
 * latest content through the others, writes still reach their quorum (2 of 3), and `*`
 * counts every document exactly once with no failed shard; when it returns, the writes it
 * missed reach it by hinted handoff.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "replication-test-secret";
const DOCS = 600;

function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "3",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

interface Health {
  status: string;
  total_nodes: number;
  connected_nodes: number;
  rebalancing: { slots_moving: number };
}

async function health(node: ServerProcess): Promise<Health> {
  return (await call(node.url, "GET", "/_cluster/health")).body as Health;
}

/** Every id answers 200 with `n === expected(i)` through `node`; returns the problems. */
async function checkAll(node: ServerProcess, expected: (i: number) => number): Promise<string[]> {
  const problems: string[] = [];
  for (let at = 0; at < DOCS; at += 50) {
    await Promise.all(Array.from({ length: Math.min(50, DOCS - at) }, async (_, k) => {
      const i = at + k;
      const answer = await call(node.url, "GET", `/api/books/document/d${i}`);
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      if (answer.status !== 200 || n !== expected(i)) {
        const why = answer.status === 200 ? "" : ` ${JSON.stringify(answer.body).slice(0, 300)}`;
        problems.push(`d${i}: ${answer.status} n=${n}, expected ${expected(i)}${why}`);
      }
    }));
  }
  return problems;
}

async function total(node: ServerProcess): Promise<{ hits: number; failed: number }> {
  const answer = await call(node.url, "POST", "/api/books/search", { query: "*", limit: 1 });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { total_hits: number; failed_shards: number };
  return { hits: body.total_hits, failed: body.failed_shards };
}

Deno.test({
  name:
    "replication: RF 3 on three nodes — every node holds every slot, writes answer replicas_acknowledged, a SIGKILLed node loses no read, write or search count",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-replication-" });
      const running: ServerProcess[] = [];
      try {
        const a = await startNode(`${root}/a`, "a", []);
        running.push(a);
        const bulk = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", bulk);
        assert.equal((written.body as { items_written: number }).items_written, DOCS);
        const seed = clusterAddress(a);
        const b = await startNode(`${root}/b`, "b", [seed]);
        const c = await startNode(`${root}/c`, "c", [seed]);
        running.push(b, c);
        const started = performance.now();
        await Promise.all([a, b, c].map((node) =>
          waitUntil(
            async () => {
              const h = await health(node);
              if (h.status !== "green" || h.connected_nodes !== 3) return false;
              const nodes = (await call(node.url, "GET", "/_cluster/nodes")).body as {
                nodes: Array<{ slots: number }>;
              };
              return h.rebalancing.slots_moving === 0 &&
                nodes.nodes.every((member) => member.slots === 1_024);
            },
            120_000,
            `${node.url}: three replicas of every slot`,
          )
        ));
        console.log(
          `a → a, b, c with RF 3: settled in ${Math.round(performance.now() - started)} ms`,
        );
        for (const node of [a, b, c]) assert.deepEqual(await checkAll(node, (i) => i), []);
        assert.deepEqual(await total(b), { hits: DOCS, failed: 0 });

        const one = await call(b.url, "PUT", "/api/books/document", { id: "d0", doc: { n: -1 } });
        assert.equal(one.status, 200, JSON.stringify(one.body));
        assert.equal((one.body as { replicas_acknowledged: number }).replicas_acknowledged, 3);

        await c.stop("SIGKILL");
        running.pop();
        await Promise.all([a, b].map((node) =>
          waitUntil(
            async () => (await health(node)).connected_nodes === 2,
            30_000,
            `${node.url} sees c gone`,
          )
        ));
        const expected = (i: number) => (i === 0 ? -1 : i);
        for (const node of [a, b]) assert.deepEqual(await checkAll(node, expected), []);
        for (const node of [a, b]) assert.deepEqual(await total(node), { hits: DOCS, failed: 0 });

        const updates = Array.from(
          { length: DOCS },
          (_, i) => ({ id: `d${i}`, doc: { n: i + 1 } }),
        );
        const bulkAfter = await call(a.url, "POST", "/api/books/_bulk", updates);
        assert.equal(
          (bulkAfter.body as { items_written: number }).items_written,
          DOCS,
          JSON.stringify(bulkAfter.body).slice(0, 500),
        );
        const single = await call(b.url, "PUT", "/api/books/document", {
          id: "new",
          doc: { n: 7 },
        });
        assert.equal(single.status, 200, JSON.stringify(single.body));
        assert.equal((single.body as { replicas_acknowledged: number }).replicas_acknowledged, 2);
        for (const node of [a, b]) assert.deepEqual(await checkAll(node, (i) => i + 1), []);
        for (const node of [a, b]) {
          assert.deepEqual(await total(node), { hits: DOCS + 1, failed: 0 });
        }

        // c returns: the writes it missed reach it by hinted handoff, nothing is counted twice.
        const back = await startNode(`${root}/c`, "c", [seed]);
        running.push(back);
        const replayed = performance.now();
        await waitUntil(
          async () => (await checkAll(back, (i) => i + 1)).length === 0,
          60_000,
          "c holds every write it missed",
        );
        console.log(`c back: its hints replayed in ${Math.round(performance.now() - replayed)} ms`);
        const fresh = await call(back.url, "GET", "/api/books/document/new");
        assert.equal(fresh.status, 200);
        for (const node of [a, b, back]) {
          assert.deepEqual(await total(node), { hits: DOCS + 1, failed: 0 });
        }
      } finally {
        await Promise.all(running.map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
