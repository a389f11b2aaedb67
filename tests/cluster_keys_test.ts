/**
 * API keys in a cluster, with real processes on loopback: a key created through one node is
 * accepted by the others, a node that joins later gets it when it meets them, and a key
 * deleted through one node is refused by every node.
 */

import assert from "node:assert/strict";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const MASTER = "cluster-keys-master-0123456789";
const ENV = {
  CAMEODB_NETWORK_CLUSTER_PSK: "cluster-keys-test-psk",
  CAMEODB_SECURITY_MASTER_KEY: MASTER,
  CAMEODB_STORAGE_NUM_SHARDS_INIT: "1",
  CAMEODB_LOG: "warn",
};
const WAIT_MS = 30_000;

async function ask(node: ServerProcess, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** Every node green with `total` nodes connected (health in full needs the master key). */
function allGreen(nodes: readonly ServerProcess[], total: number, what: string) {
  return Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const health = (await ask(node, MASTER, "GET", "/_cluster/health")).body;
        return health.status === "green" && health.total_nodes === total &&
          health.connected_nodes === total;
      },
      60_000,
      `${what}: ${node.url} green with ${total} nodes`,
    )
  ));
}

Deno.test({
  name:
    "cluster keys: created on one node, used on every node (and a late joiner); deleted everywhere",
  sanitizeResources: false,
  sanitizeOps: false,
  // Several server processes, and latencies measured: never beside another such test.
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-keys-" });
      const running: ServerProcess[] = [];
      try {
        const a = await startClusterNode({ dataDir: `${root}/a`, label: "a", env: ENV });
        running.push(a);
        const b = await startClusterNode({
          dataDir: `${root}/b`,
          label: "b",
          seeds: [clusterAddress(a)],
          env: ENV,
        });
        running.push(b);
        await allGreen([a, b], 2, "two nodes");
        const put = await ask(a, MASTER, "PUT", "/api/books/document", {
          id: "b1",
          doc: { title: "Rust" },
        });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        const created = await ask(a, MASTER, "POST", "/_keys", {
          description: "search books",
          actions: ["search"],
          indexes: ["books"],
        });
        assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
        const key = created.body.key as string;
        const search = (node: ServerProcess) =>
          ask(node, key, "POST", "/api/books/search", { query: "title:rust" });
        await waitUntil(async () => (await search(b)).status === 200, WAIT_MS, "b accepts the key");
        assert.equal((await search(b)).body.total_hits, 1);
        // The key's rights hold on the other node too.
        assert.equal(
          (await ask(b, key, "PUT", "/api/books/document", { id: "x", doc: {} })).status,
          403,
        );
        // A node that joins later gets the keys when it meets the others.
        const c = await startClusterNode({
          dataDir: `${root}/c`,
          label: "c",
          seeds: [clusterAddress(a)],
          env: ENV,
        });
        running.push(c);
        await allGreen([a, b, c], 3, "three nodes");
        await waitUntil(async () => (await search(c)).status === 200, WAIT_MS, "c accepts the key");
        // Deleted through b: refused by every node.
        const id = created.body.id as string;
        assert.equal((await ask(b, MASTER, "DELETE", `/_keys/${id}`)).status, 200);
        for (const node of [a, b, c]) {
          await waitUntil(
            async () => (await search(node)).status === 401,
            WAIT_MS,
            `${node.url} refuses the deleted key`,
          );
        }
      } finally {
        for (const node of running) await node.stop();
        await Deno.remove(root, { recursive: true });
      }
    }),
});
