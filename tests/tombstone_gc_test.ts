/**
 * Tombstones with replicas, real processes on loopback (issue 16 §2): three nodes with
 * `replication_factor` 3, a short `tombstone_grace_ms` and collection interval, anti-entropy
 * on. Node c is SIGKILLed, documents are deleted through a, and a and b are restarted with
 * their hints removed — so c can learn the deletes only from anti-entropy. Past the grace and
 * over whole sweeps a and b collect no tombstone (c, an owner, does not hold them). Then c
 * restarts with its old copies: no deleted document comes back on any node, and once every
 * replica holds the tombstones each node collects them (`cameodb_tombstones_collected_total`)
 * — and a sweep after that still gives none back.
 */

import assert from "node:assert/strict";
import type { AntiEntropyStatus } from "../cluster/anti_entropy.ts";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "tombstone-gc-test-secret";
const DOCS = 60;
/** Ids `d0`… deleted while c is down. */
const DELETED = (i: number) => i % 3 === 0;
const DELETES = Array.from({ length: DOCS }, (_, i) => i).filter(DELETED).length;
const GRACE_MS = 2_000;

function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "3",
      CAMEODB_NETWORK_CLUSTER_READ_QUORUM: "1",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_NETWORK_CLUSTER_ANTI_ENTROPY_INTERVAL_MS: "3",
      CAMEODB_STORAGE_TOMBSTONE_GRACE_MS: String(GRACE_MS),
      CAMEODB_STORAGE_TOMBSTONE_COLLECT_INTERVAL_MS: "200",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

interface Health {
  status: string;
  joining?: boolean;
  connected_nodes: number;
  rebalancing: { slots_moving: number };
  anti_entropy?: AntiEntropyStatus;
}

async function health(node: ServerProcess): Promise<Health> {
  return (await call(node.url, "GET", "/_cluster/health")).body as Health;
}

/** One sample of the node's `/_metrics` (0 when absent). */
async function metric(node: ServerProcess, sample: string): Promise<number> {
  const text = (await call(node.url, "GET", "/_metrics")).body as string;
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

const localDocuments = (node: ServerProcess) => metric(node, 'cameodb_documents{index="books"}');
const collected = (node: ServerProcess) => metric(node, "cameodb_tombstones_collected_total");

/** Through `node` (read_quorum 1: its own copy), the ids not answered as written. */
async function wrongReads(node: ServerProcess): Promise<string[]> {
  const answers = await Promise.all(
    Array.from({ length: DOCS }, (_, i) => call(node.url, "GET", `/api/books/document/d${i}`)),
  );
  return answers.flatMap((answer, i) => {
    const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
    const right = DELETED(i) ? answer.status === 404 : answer.status === 200 && n === i;
    return right ? [] : [`d${i}: ${answer.status} n=${n}`];
  });
}

/** Resolves once `node` has ended `sweeps` more anti-entropy sweeps than now. */
async function sweepsLater(node: ServerProcess, sweeps: number, what: string): Promise<void> {
  const from = (await health(node)).anti_entropy!.anti_entropy_sweeps;
  await waitUntil(
    async () => (await health(node)).anti_entropy!.anti_entropy_sweeps >= from + sweeps,
    180_000,
    what,
  );
}

function threeReplicas(node: ServerProcess): Promise<boolean> {
  return waitUntil(
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
  );
}

Deno.test({
  name:
    "tombstones with replicas: kept while an owner lacks them, so a replica that missed the deletes gives nothing back; collected once every replica holds them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-tombstone-gc-" });
      const running = new Set<ServerProcess>();
      const start = async (label: string, seeds: string[]) => {
        const node = await startNode(`${root}/${label}`, label, seeds);
        running.add(node);
        return node;
      };
      const stop = async (node: ServerProcess, signal?: Deno.Signal) => {
        await node.stop(signal);
        running.delete(node);
      };
      try {
        let a = await start("a", []);
        let b = await start("b", [clusterAddress(a)]);
        const c = await start("c", [clusterAddress(a)]);
        await Promise.all([a, b, c].map(threeReplicas));
        const puts = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", puts);
        assert.equal((written.body as { items_written: number }).items_written, DOCS);
        await waitUntil(async () => await localDocuments(c) === DOCS, 30_000, "c holds all");

        // c misses the deletes: killed first; a and b take them (a write quorum of 2).
        await stop(c, "SIGKILL");
        const deleted = puts.filter((_, i) => DELETED(i)).map(({ id }) => id);
        for (const id of deleted) {
          const answer = await call(a.url, "DELETE", `/api/books/document?id=${id}`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
        }
        const deletedAt = performance.now();
        const hinted = await metric(a, "cameodb_hints_pending_total") +
          await metric(b, "cameodb_hints_pending_total");
        assert.ok(hinted >= DELETES, `the deletes wait for c as hints: ${hinted}`);
        // Their hints are lost (a and b restart without them): only anti-entropy is left.
        await Promise.all([stop(a), stop(b)]);
        await Promise.all(
          ["a", "b"].map((n) => Deno.remove(`${root}/${n}/hints`, { recursive: true })),
        );
        a = await start("a", []);
        b = await start("b", [clusterAddress(a)]);
        for (const node of [a, b]) {
          await waitUntil(async () => (await health(node)).joining === false, 60_000, "rejoined");
          assert.equal(await metric(node, "cameodb_hints_pending_total"), 0);
        }
        // Sweeps until the grace has passed, then two more each (the horizons reach the shards
        // after each): c is an owner that lacks the tombstones, so none is collected.
        while (performance.now() - deletedAt <= GRACE_MS) await sweepsLater(a, 1, "a: a sweep");
        await Promise.all([a, b].map((node) => sweepsLater(node, 2, `${node.url}: sweeps`)));
        assert.deepEqual([await collected(a), await collected(b)], [0, 0]);
        for (const node of [a, b]) assert.deepEqual(await wrongReads(node), []);

        // c comes back with its old copies of the deleted documents.
        const back = await start("c", [clusterAddress(a), clusterAddress(b)]);
        await waitUntil(async () => (await health(back)).joining === false, 60_000, "c rejoined");
        const live = DOCS - DELETES;
        await waitUntil(
          async () => await localDocuments(back) === live,
          180_000,
          `c holds ${live} documents (its old copies deleted by anti-entropy)`,
        );
        // Every replica holds the tombstones now: each node collects them all.
        for (const node of [a, b, back]) {
          await waitUntil(
            async () => await collected(node) === DELETES,
            180_000,
            `${node.url}: ${DELETES} tombstones collected`,
          );
        }
        // A sweep later nothing came back anywhere, nor was anything collected twice.
        await Promise.all([a, b, back].map((node) => sweepsLater(node, 1, `${node.url}: sweep`)));
        for (const node of [a, b, back]) {
          assert.deepEqual(await wrongReads(node), [], `${node.url} answers as written`);
          assert.equal(await localDocuments(node), live);
          assert.equal(await collected(node), DELETES);
        }
        const ae = (await health(back)).anti_entropy!;
        console.log(`c after its return: ${JSON.stringify(ae)}`);
      } finally {
        await Promise.all([...running].map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
