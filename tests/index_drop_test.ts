/**
 * An index dropped while a node is away stays dropped (issue 16: "a returning replica does not
 * resurrect dropped data"), with real processes on loopback: three nodes, an index with
 * documents on all three; c is SIGKILLed, the index is dropped through a, c restarts on its data
 * directory (still holding its part of the index). c learns the drop from the others' hellos
 * and drops its copy; they do not adopt its schema. Created again afterwards, the index holds
 * only what is written to it then.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "index-drop-test-secret";
const DOCS = 120;

function startNode(root: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir: `${root}/${label}`,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

/** The indexes this node holds itself (`/_indexes`). */
async function localIndexes(node: ServerProcess): Promise<string[]> {
  const answer = await call(node.url, "GET", "/_indexes");
  const body = answer.body as { indexes?: Array<{ name: string }> };
  return (body.indexes ?? []).map((index) => index.name);
}

async function searchStatus(node: ServerProcess): Promise<{ status: number; hits?: number }> {
  const answer = await call(node.url, "POST", "/api/books/search", { query: "*", limit: 1 });
  const hits = (answer.body as { total_hits?: number }).total_hits;
  return hits === undefined ? { status: answer.status } : { status: answer.status, hits };
}

Deno.test({
  name:
    "index drop: an index dropped while a node was down is not brought back when it returns; created again, it starts empty",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-index-drop-" });
      const running = new Set<ServerProcess>();
      const start = async (label: string, seeds: string[]) => {
        const node = await startNode(root, label, seeds);
        running.add(node);
        return node;
      };
      try {
        const a = await start("a", []);
        const b = await start("b", [clusterAddress(a)]);
        let c = await start("c", [clusterAddress(a)]);
        await allGreen([a, b, c], 3, "three nodes");
        const docs = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const bulk = await call(a.url, "POST", "/api/books/_bulk", docs);
        assert.equal((bulk.body as { items_written: number }).items_written, DOCS);
        // Every node holds part of it (the slots are spread over the three).
        await waitUntil(
          async () => (await localIndexes(c)).includes("books"),
          30_000,
          "c holds books",
        );
        assert.deepEqual(await searchStatus(c), { status: 200, hits: DOCS });

        await c.stop("SIGKILL");
        running.delete(c);
        await waitUntil(
          async () =>
            ((await call(a.url, "GET", "/_cluster/health")).body as { connected_nodes: number })
              .connected_nodes === 2,
          30_000,
          "a sees c gone",
        );
        const dropped = await call(a.url, "DELETE", "/api/books");
        assert.equal(dropped.status, 200, JSON.stringify(dropped.body));
        assert.deepEqual(await searchStatus(a), { status: 404 });

        c = await start("c", [clusterAddress(a), clusterAddress(b)]);
        await allGreen([a, b, c], 3, "c back");
        // c drops its copy once it has met the others; a and b do not take its schema back.
        await waitUntil(
          async () => !(await localIndexes(c)).includes("books"),
          30_000,
          "c drops its copy of books",
        );
        for (const node of [a, b, c]) {
          assert.deepEqual(await searchStatus(node), { status: 404 }, node.url);
          assert.ok(!(await localIndexes(node)).includes("books"), node.url);
        }

        // Created again: only what is written now.
        const again = await call(b.url, "PUT", "/api/books/document", { id: "new", doc: { n: 1 } });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        await waitUntil(
          async () => (await searchStatus(c)).hits === 1,
          30_000,
          "the new books, through c, holds one document",
        );
        for (const node of [a, b, c]) {
          assert.deepEqual(await searchStatus(node), { status: 200, hits: 1 }, node.url);
        }
      } finally {
        await Promise.all([...running].map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
