/**
 * Quorum reads and read repair with real processes on loopback (issue 16): three nodes with
 * `replication_factor` 3 and `read_quorum` 2. One node is SIGKILLed and its data directory
 * wiped (its node id and key kept), so it returns holding nothing — no hint covers what it
 * lost. Every read through it still answers what was acknowledged (a document 200 with its
 * latest content, a deleted one 404: the quorum's newest stamp wins, a tombstone included),
 * and each read repairs its copy: once the other two are SIGKILLed, a search on it alone
 * counts every live document. Anti-entropy is off, so only the reads repair it.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode, wipeDataDir } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "read-repair-test-secret";
const DOCS = 300;
/** Every `DELETED_EVERY`th document is deleted before the wipe. */
const DELETED_EVERY = 10;

function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "3",
      CAMEODB_NETWORK_CLUSTER_READ_QUORUM: "2",
      // Off: only the reads may repair the wiped node here (anti-entropy has its own test).
      CAMEODB_NETWORK_CLUSTER_ANTI_ENTROPY_INTERVAL_MS: "0",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

/** Every node lists every slot as its own and no slot is moving. */
async function settled(node: ServerProcess): Promise<boolean> {
  const health = (await call(node.url, "GET", "/_cluster/health")).body as {
    rebalancing: { slots_moving: number };
  };
  const nodes = (await call(node.url, "GET", "/_cluster/nodes")).body as {
    nodes: Array<{ slots: number }>;
  };
  return health.rebalancing.slots_moving === 0 &&
    nodes.nodes.length === 3 && nodes.nodes.every((member) => member.slots === 1_024);
}

/** Ids read at once, as a client with a connection pool would. */
const READS_AT_ONCE = 50;

/** Reads every id through `node`; returns what differs from the model. */
async function misreads(node: ServerProcess): Promise<string[]> {
  const problems: string[] = [];
  for (let at = 0; at < DOCS; at += READS_AT_ONCE) {
    await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, DOCS - at) }, async (_, k) => {
      const i = at + k;
      const answer = await call(node.url, "GET", `/api/books/document/d${i}`);
      const deleted = i % DELETED_EVERY === 0;
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      if (deleted ? answer.status !== 404 : answer.status !== 200 || n !== i + 1) {
        problems.push(`d${i}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
    }));
  }
  return problems;
}

async function readRepairs(node: ServerProcess): Promise<number> {
  const text = (await call(node.url, "GET", "/_metrics")).body as string;
  const match = text.match(/^cameodb_read_repairs_total (\d+)$/m);
  return match === null ? 0 : Number(match[1]);
}

Deno.test({
  name:
    "read repair: a wiped replica answers every acknowledged write and delete through the quorum, and each read repairs its copy",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-read-repair-" });
      const running = new Set<ServerProcess>();
      const start = async (label: string, seeds: string[]) => {
        const node = await startNode(`${root}/${label}`, label, seeds);
        running.add(node);
        return node;
      };
      const kill = async (node: ServerProcess) => {
        await node.stop("SIGKILL");
        running.delete(node);
      };
      try {
        const a = await start("a", []);
        const b = await start("b", [clusterAddress(a)]);
        const c = await start("c", [clusterAddress(a)]);
        await allGreen([a, b, c], 3, "three nodes");
        await Promise.all(
          [a, b, c].map((node) => waitUntil(() => settled(node), 120_000, "RF 3 placed")),
        );
        const puts = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i + 1 } }));
        const bulk = await call(a.url, "POST", "/api/books/_bulk", puts);
        assert.equal((bulk.body as { items_written: number }).items_written, DOCS);
        for (let i = 0; i < DOCS; i += DELETED_EVERY) {
          const gone = await call(b.url, "DELETE", `/api/books/document?id=d${i}`);
          assert.equal(gone.status, 200, JSON.stringify(gone.body));
        }
        assert.deepEqual(await misreads(c), []);

        await kill(c);
        await wipeDataDir(`${root}/c`);
        const back = await start("c", [clusterAddress(a), clusterAddress(b)]);
        // Anti-entropy is off: c stays a replica being rebuilt (yellow), its copies not counted.
        await Promise.all([a, b, back].map((node) =>
          waitUntil(
            async () => {
              const health = (await call(node.url, "GET", "/_cluster/health")).body as {
                joining?: boolean;
                connected_nodes: number;
              };
              return health.joining === false && health.connected_nodes === 3;
            },
            60_000,
            `${node.url}: c back, wiped, all three connected`,
          )
        ));
        const rebuilding = (await call(back.url, "GET", "/_cluster/health")).body as {
          status: string;
          anti_entropy?: { rebuilding_slots: number };
        };
        assert.equal(rebuilding.status, "yellow");
        assert.equal(rebuilding.anti_entropy?.rebuilding_slots, 1_024);
        assert.equal(await readRepairs(back), 0, "nothing repaired before a read");
        // Through the wiped node: its own copy is empty, the quorum's newest answer wins.
        assert.deepEqual(await misreads(back), []);
        // Every id was repaired on it once, those its reads waited for and the late ones alike.
        await waitUntil(
          async () => (await readRepairs(back)) >= DOCS,
          30_000,
          "every id repaired on c",
        ).catch(async (error) => {
          throw new Error(`${error.message}: ${await readRepairs(back)} repairs`);
        });
        assert.equal(await readRepairs(back), DOCS, "no id repaired twice");

        await kill(a);
        await kill(b);
        const live = DOCS - DOCS / DELETED_EVERY;
        await waitUntil(
          async () => {
            const answer = await call(back.url, "POST", "/api/books/search", {
              query: "*",
              limit: 1,
            });
            const body = answer.body as { total_hits?: number; failed_shards?: number };
            // c is still a replica being rebuilt (anti-entropy is off): it answers, and says
            // its copy may be partial (its shards count as failed).
            return answer.status === 200 && body.failed_shards === 2 && body.total_hits === live;
          },
          30_000,
          `c alone counts ${live} documents`,
        );
      } finally {
        await Promise.all([...running].map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
