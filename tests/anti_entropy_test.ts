/**
 * Anti-entropy with real processes on loopback (issue 16): three nodes with
 * `replication_factor` 3; documents are written, some updated and some deleted; one node is
 * SIGKILLed, its data directory wiped (its identity kept: `node_id`, `cluster.key`) and it is
 * restarted under the same id. No client write reaches it afterwards and no hint waits for it,
 * so only anti-entropy can rebuild it: the test waits until its own copy — its local document
 * count in `/_metrics`, and point reads through it with `read_quorum` 1, which read its own copy
 * — holds every document with its last value and no deleted one; then it stops the node and
 * reads its data directory directly, slot by slot: every document and every tombstone is there.
 * Before that, the wiped node runs once without anti-entropy rounds of its own (its rebuild
 * cannot finish): its copies must not count — reads by id through it and searches through
 * every node are complete — and, killed and restarted, it goes on rebuilding.
 */

import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { NodeOrchestrator } from "../node/orchestrator.ts";
import type { AntiEntropyStatus } from "../cluster/anti_entropy.ts";
import { readSlotEntries } from "../cluster/slot_entries.ts";
import { slotOf } from "../storage/slot.ts";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode, wipeDataDir } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "anti-entropy-test-secret";
const DOCS = 400;
/** Ids `d0`… deleted after they were written. */
const DELETED = (i: number) => i % 5 === 0;
/** Ids read through the wiped node while it rebuilds (each read repairs its copy). */
const SAMPLE = 20;
/** Ids updated after they were written. */
const UPDATED = (i: number) => i % 7 === 0;

function startNode(
  dataDir: string,
  label: string,
  seeds: string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "3",
      CAMEODB_NETWORK_CLUSTER_READ_QUORUM: "1",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_NETWORK_CLUSTER_ANTI_ENTROPY_INTERVAL_MS: "5",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
      ...env,
    },
  });
}

/** `*` through `node`: its total and failed shards. */
async function countAll(node: ServerProcess): Promise<{ total: number; failed: number }> {
  const answer = await call(node.url, "POST", "/api/books/search", { query: "*", limit: 1 });
  const body = answer.body as { total_hits: number; failed_shards: number };
  assert.equal(answer.status, 200, JSON.stringify(body));
  return { total: body.total_hits, failed: body.failed_shards };
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

/** The value `n` of document `d<i>` as last written, or undefined when deleted. */
function expected(i: number): number | undefined {
  if (DELETED(i)) return undefined;
  return UPDATED(i) ? i + 1_000 : i;
}

/**
 * Through `node` (reading its own copy first), the ids among the first `ids` whose answer is
 * not what was written.
 */
async function wrongReads(node: ServerProcess, ids = DOCS): Promise<string[]> {
  const wrong: string[] = [];
  for (let at = 0; at < ids; at += 50) {
    await Promise.all(Array.from({ length: Math.min(50, ids - at) }, async (_, k) => {
      const i = at + k;
      const answer = await call(node.url, "GET", `/api/books/document/d${i}`);
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      const want = expected(i);
      const right = want === undefined
        ? answer.status === 404
        : answer.status === 200 && n === want;
      if (!right) {
        const why = answer.status >= 500 ? ` (${JSON.stringify(answer.body)})` : "";
        wrong.push(`d${i}: ${answer.status} n=${n}, expected ${want ?? "404"}${why}`);
      }
    }));
  }
  return wrong;
}

/** The node's own document count of `books`, from its `/_metrics`. */
async function localDocuments(node: ServerProcess): Promise<number> {
  const text = (await call(node.url, "GET", "/_metrics")).body as string;
  const line = text.split("\n").find((l) => l.startsWith('cameodb_documents{index="books"}'));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

Deno.test({
  name:
    "anti-entropy: a replica whose data directory was wiped and that restarts under its id rebuilds every document and tombstone from the other owners, without a client read",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-anti-entropy-" });
      const running = new Set<ServerProcess>();
      try {
        const a = await startNode(`${root}/a`, "a", []);
        running.add(a);
        const seed = clusterAddress(a);
        const b = await startNode(`${root}/b`, "b", [seed]);
        const c = await startNode(`${root}/c`, "c", [seed]);
        running.add(b).add(c);
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

        const puts = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", puts);
        assert.equal((written.body as { items_written: number }).items_written, DOCS);
        const updates = puts.filter((_, i) => UPDATED(i)).map(({ id }) => ({
          id,
          doc: { n: Number(id.slice(1)) + 1_000 },
        }));
        const updated = await call(b.url, "POST", "/api/books/_bulk", updates);
        assert.equal((updated.body as { items_written: number }).items_written, updates.length);
        const deleted = puts.filter((_, i) => DELETED(i)).map(({ id }) => id);
        for (const id of deleted) {
          const answer = await call(a.url, "DELETE", `/api/books/document?id=${id}`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
        }
        const live = DOCS - deleted.length;
        assert.deepEqual(await wrongReads(c), []);

        // c loses its disk: SIGKILL, everything but its identity removed, restarted as c.
        await c.stop("SIGKILL");
        running.delete(c);
        await wipeDataDir(`${root}/c`);
        // First without anti-entropy rounds of its own, so its rebuild cannot finish: while
        // it rebuilds, its copies must not count — reads by id through it (read_quorum 1,
        // its own copy first) and searches through any node see every document exactly once.
        const seeds = [seed, clusterAddress(b)];
        const halted = await startNode(`${root}/c`, "c", seeds, {
          CAMEODB_NETWORK_CLUSTER_ANTI_ENTROPY_INTERVAL_MS: "0",
        });
        running.add(halted);
        await waitUntil(
          async () => {
            const h = await health(halted);
            return h.joining === false && h.anti_entropy?.rebuilding_slots === 1_024;
          },
          60_000,
          "wiped c joined and rebuilds all 1,024 slots",
        );
        assert.equal((await health(halted)).status, "yellow");
        // A sample only: each read repairs c's copy, and the rest is left to anti-entropy.
        assert.deepEqual(await wrongReads(halted, SAMPLE), []);
        for (const node of [halted, a, b, halted]) {
          assert.deepEqual(await countAll(node), { total: live, failed: 0 }, node.url);
        }
        assert.equal((await health(halted)).anti_entropy?.rebuilding_slots, 1_024);
        // Restarted in the middle of its rebuild (its slot table kept now): it goes on with it.
        await halted.stop("SIGKILL");
        running.delete(halted);
        const wiped = await startNode(`${root}/c`, "c", seeds);
        running.add(wiped);
        const started = performance.now();
        await waitUntil(
          async () => (await health(wiped)).joining === false,
          60_000,
          "wiped c joined",
        );
        await waitUntil(
          async () => (await health(wiped)).anti_entropy?.rebuilding_slots === 0,
          180_000,
          "wiped c rebuilt every slot",
        );
        assert.equal((await health(wiped)).anti_entropy?.anti_entropy_slots_rebuilt, 1_024);
        await waitUntil(
          async () => await localDocuments(wiped) === live,
          180_000,
          `wiped c holds ${live} documents again`,
        );
        // Then a clean sweep: c compares all 1,024 slots with both other owners and finds no
        // bucket differing — its tombstones are there too.
        let window = { rounds: -1, differing: -1 };
        await waitUntil(
          async () => {
            const ae = (await health(wiped)).anti_entropy!;
            if (ae.anti_entropy_buckets_differing !== window.differing) {
              window = {
                rounds: ae.anti_entropy_rounds,
                differing: ae.anti_entropy_buckets_differing,
              };
              return false;
            }
            return ae.anti_entropy_rounds - window.rounds >= 1_024;
          },
          180_000,
          "wiped c: a sweep over every slot with no bucket differing",
        );
        assert.deepEqual(await wrongReads(wiped), []);
        const rebuilt = Math.round(performance.now() - started);
        const ae = (await health(wiped)).anti_entropy!;
        console.log(`wiped c rebuilt in ${rebuilt} ms: ${JSON.stringify(ae)}`);
        assert.ok(ae.anti_entropy_rounds > 0);
        const pushed = await Promise.all(
          [a, b].map(async (node) =>
            (await health(node)).anti_entropy!.anti_entropy_entries_pushed
          ),
        );
        assert.ok(
          ae.anti_entropy_entries_pulled + pushed[0]! + pushed[1]! >=
            live + deleted.length - SAMPLE,
          `every document and tombstone was repaired: ${ae.anti_entropy_entries_pulled} pulled, ${pushed} pushed`,
        );

        // Its own data directory, read directly: every document and every tombstone.
        await wiped.stop();
        running.delete(wiped);
        const system = new ActorSystem({ node: "reader" });
        try {
          const node = await NodeOrchestrator.start(system, {
            dataDir: `${root}/c`,
            numShards: 2,
          });
          const held = new Map<string, boolean>();
          for (const slot of new Set(puts.map(({ id }) => slotOf(id)))) {
            for (const entry of await readSlotEntries(node, "books", slot)) {
              held.set(entry.id, entry.deleted);
            }
          }
          const missing = puts.map(({ id }) => id).filter((id, i) => held.get(id) !== DELETED(i));
          assert.deepEqual(
            missing,
            [],
            "c holds each document, and each deleted one as a tombstone",
          );
        } finally {
          await system.shutdown();
        }
      } finally {
        await Promise.all([...running].map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
