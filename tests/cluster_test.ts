/**
 * The three-node scenario, with real processes on loopback: write through A; read by id
 * and search through B and C; a 10k bulk spreads over all three; SIGKILL one node →
 * searches through the others answer within `broadcast_timeout` and report it, its
 * writes fail fast with 503; restart it → it rejoins, health is green, its documents are
 * back. A node with the wrong pre-shared key cannot join.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "cluster-test-secret";
const BROADCAST_TIMEOUT_SECS = 2;
const DOCS = 10_000;
const GROUPS = 10;

interface Health {
  status: string;
  problem?: string;
  total_nodes: number;
  connected_nodes: number;
  telemetry?: Record<string, number>;
  nodes?: Array<{ node_id: string; name: string; connected: boolean }>;
}

interface SearchAnswer {
  hits: Array<{ id: string }>;
  total_hits: number;
  total_shards: number;
  failed_shards: number;
  nodes_contacted: number;
  nodes_failed: number;
}

function env(psk: string): Record<string, string> {
  return {
    CAMEODB_NETWORK_CLUSTER_PSK: psk,
    // One owner per slot: the point is what a lost node's slots do without replicas (503).
    CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "1",
    CAMEODB_SEARCH_BROADCAST_TIMEOUT_SECS: String(BROADCAST_TIMEOUT_SECS),
    CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
    CAMEODB_LOG: "warn",
  };
}

function startNode(
  dataDir: string,
  label: string,
  seeds: string[],
  psk = PSK,
): Promise<ServerProcess> {
  return startClusterNode({ dataDir, label, seeds, env: env(psk) });
}

async function health(node: ServerProcess): Promise<Health> {
  return (await call(node.url, "GET", "/_cluster/health")).body as Health;
}

async function search(node: ServerProcess, query: string, limit = 10_000): Promise<SearchAnswer> {
  const answer = await call(node.url, "POST", "/api/books/search", { query, limit });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as SearchAnswer;
}

const idOf = (i: number) => `book-${i}`;

Deno.test({
  name: "cluster: three processes form one database; a lost node is reported, fails fast, rejoins",
  sanitizeResources: false,
  sanitizeOps: false,
  // Several server processes, and latencies measured: never beside another such test.
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-cluster-" });
      const running: ServerProcess[] = [];
      try {
        const a = await startNode(`${root}/a`, "a", []);
        running.push(a);
        const seed = clusterAddress(a);
        const [b, c] = await Promise.all([
          startNode(`${root}/b`, "b", [seed]),
          startNode(`${root}/c`, "c", [seed]),
        ]);
        running.push(b!, c!);
        await allGreen([a, b!, c!], 3, "formed");

        // Single writes through A create the index; it is known, readable and writable everywhere.
        for (let i = 0; i < 20; i++) {
          const put = await call(a.url, "PUT", "/api/books/document", {
            id: idOf(i),
            doc: { title: `Book number ${i}`, group: `g${i % GROUPS}`, n: i },
          });
          assert.equal(put.status, 200, JSON.stringify(put.body));
        }
        for (const node of [b!, c!]) {
          for (let i = 0; i < 20; i++) {
            const got = await call(node.url, "GET", `/api/books/document/${idOf(i)}`);
            assert.equal(got.status, 200, `${idOf(i)} through ${node.url}`);
            assert.equal((got.body as { doc: { n: number } }).doc.n, i);
          }
        }
        const throughC = await call(c!.url, "PUT", "/api/books/document", {
          id: "written-through-c",
          doc: { title: "Written through C", group: "extra", n: -1 },
        });
        assert.equal(throughC.status, 200);
        assert.equal(
          (await call(b!.url, "GET", "/api/books/document/written-through-c")).status,
          200,
        );
        assert.equal(
          (await call(c!.url, "DELETE", "/api/books/document?id=written-through-c")).status,
          200,
        );

        // A bulk of 10k through A spreads over all three nodes.
        const bulk = Array.from({ length: DOCS - 20 }, (_, k) => {
          const i = k + 20;
          return { id: idOf(i), doc: { title: `Book number ${i}`, group: `g${i % GROUPS}`, n: i } };
        });
        const written = await call(a.url, "POST", "/api/books/_bulk", bulk);
        assert.equal(written.status, 200, JSON.stringify(written.body).slice(0, 500));
        assert.deepEqual((written.body as { errors: unknown[] }).errors, []);
        const counts = await Promise.all([a, b!, c!].map(async (node) => {
          const listed = await call(node.url, "GET", "/_indexes");
          const books =
            (listed.body as { indexes: Array<{ name: string; document_count: number }> })
              .indexes.find((index) => index.name === "books");
          return books?.document_count ?? 0;
        }));
        assert.equal(counts.reduce((x, y) => x + y, 0), DOCS, `per node: ${counts}`);
        for (const count of counts) {
          assert.ok(count > DOCS / 6, `a node holds only ${count} of ${DOCS}: ${counts}`);
        }
        const gathered = await call(b!.url, "GET", "/_cluster/_indexes");
        const all = gathered.body as {
          indexes: Array<{ name: string; document_count: number }>;
          nodes_contacted: number;
        };
        assert.equal(all.nodes_contacted, 3);
        assert.equal(all.indexes.find((index) => index.name === "books")?.document_count, DOCS);

        // Every document is found exactly once, through B and through C.
        for (const node of [b!, c!]) {
          assert.equal((await search(node, "*", 1)).total_hits, DOCS);
          for (let g = 0; g < GROUPS; g++) {
            const answer = await search(node, `group:g${g}`);
            const ids = answer.hits.map((hit) => hit.id);
            assert.equal(new Set(ids).size, ids.length, "a document was found twice");
            const expected = Array.from({ length: DOCS / GROUPS }, (_, k) => idOf(k * GROUPS + g));
            assert.deepEqual([...ids].sort(), expected.sort());
            assert.equal(answer.nodes_contacted, 3);
            assert.equal(answer.failed_shards, 0);
          }
        }
        const cHolds = counts[2]!;

        // SIGKILL C: the others answer within the broadcast timeout and say a node failed.
        await c!.stop("SIGKILL");
        running.splice(running.indexOf(c!), 1);
        for (const node of [a, b!]) {
          await waitUntil(
            async () => (await health(node)).connected_nodes === 2,
            30_000,
            `${node.url} sees C lost`,
          );
          const h = await health(node);
          assert.equal(h.status, "yellow");
          const started = performance.now();
          const answer = await search(node, "*", 10);
          const elapsed = performance.now() - started;
          assert.ok(elapsed < BROADCAST_TIMEOUT_SECS * 1000 + 1_000, `search took ${elapsed} ms`);
          assert.equal(answer.nodes_failed, 1);
          assert.ok(answer.failed_shards > 0);
          assert.equal(answer.total_hits, DOCS - cHolds);
        }
        // Reads and writes owned by C fail fast with 503; others still work.
        let owned = 0;
        let served = 0;
        for (let i = 0; i < 60; i++) {
          const started = performance.now();
          const got = await call(a.url, "GET", `/api/books/document/${idOf(i)}`);
          const elapsed = performance.now() - started;
          if (got.status === 503) {
            owned++;
            assert.ok(elapsed < BROADCAST_TIMEOUT_SECS * 1000, `a 503 took ${elapsed} ms`);
            const put = await call(b!.url, "PUT", "/api/books/document", {
              id: idOf(i),
              doc: { title: "changed while its owner is down", group: "x", n: i },
            });
            assert.equal(put.status, 503, JSON.stringify(put.body));
            assert.match((put.body as { details: string }).details, /unavailable/);
          } else {
            assert.equal(got.status, 200);
            served++;
          }
        }
        assert.ok(owned > 0 && served > 0, `owned by C: ${owned}, served: ${served}`);
        const metrics = await call(a.url, "GET", "/_metrics");
        const metric = (pattern: RegExp) => Number(String(metrics.body).match(pattern)?.[1]);
        assert.ok(metric(/^cameodb_broadcast_node_failures_total (\d+)$/m) >= 1);
        assert.ok(
          metric(/^cameodb_http_requests_total\{method="GET",status="503"\} (\d+)$/m) >= owned,
        );
        assert.equal(metric(/^cameodb_cluster_nodes\{state="lost"\} (\d+)$/m), 1);
        // The coordinator's counters and the breaker's refusals are exported too.
        assert.ok(metric(/^cameodb_cluster_view_changes_total (\d+)$/m) >= 1);
        assert.ok(metric(/^cameodb_refused_unhealthy_total (\d+)$/m) >= 0);
        assert.ok(metric(/^cameodb_cluster_refused_hellos_total (\d+)$/m) >= 0);
        assert.equal(metric(/^cameodb_documents\{index="books"\} (\d+)$/m), counts[0]);

        // Restart C on its data: it rejoins, health is green, its documents are back.
        const c2 = await startNode(`${root}/c`, "c", [seed]);
        running.push(c2);
        await allGreen([a, b!, c2], 3, "rejoined");
        // A keeps C's new address (it came back on another port) in its member list.
        await waitUntil(
          async () => {
            const kept = JSON.parse(await Deno.readTextFile(`${root}/a/cluster.json`)) as {
              members: Array<{ name: string; addrs: string[] }>;
            };
            return kept.members.find((m) => m.name === "c")?.addrs.includes(clusterAddress(c2));
          },
          10_000,
          "A keeps C's new address",
        );
        for (const node of [a, b!, c2]) {
          assert.equal((await search(node, "*", 1)).total_hits, DOCS);
        }
        for (let i = 0; i < 60; i++) {
          const got = await call(b!.url, "GET", `/api/books/document/${idOf(i)}`);
          assert.equal(got.status, 200);
          assert.equal(
            (got.body as { doc: { n: number } }).doc.n,
            i,
            "a refused write changed data",
          );
        }

        // A node with the wrong key cannot join; the cluster does not list it.
        const intruder = await startNode(`${root}/d`, "d", [seed], "not-the-cluster-key");
        running.push(intruder);
        await waitUntil(
          async () => ((await health(intruder)).telemetry?.dial_failures ?? 0) >= 1,
          30_000,
          "the intruder's dial fails",
        );
        const alone = await health(intruder);
        assert.equal(alone.status, "red", "a node every seed refuses is not green");
        assert.match(String(alone.problem), /every seed refused the connection/);
        assert.equal(alone.total_nodes, 1);
        assert.equal(alone.connected_nodes, 1);
        const seen = await health(a);
        assert.equal(seen.total_nodes, 3);
        assert.ok(!seen.nodes!.some((n) => n.name === "d"));

        // With B and C gone, A cannot reach a majority: red.
        await Promise.all([b!, c2].map((node) => node.stop("SIGKILL")));
        running.splice(running.indexOf(b!), 1);
        running.splice(running.indexOf(c2), 1);
        const red = await waitUntil(
          async () => {
            const h = await health(a);
            return h.connected_nodes === 1 ? h : undefined;
          },
          30_000,
          "A sees B and C lost",
        );
        assert.equal(red.status, "red");
        assert.equal(red.total_nodes, 3);
      } finally {
        await Promise.all(running.map((node) => node.stop("SIGKILL")));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
