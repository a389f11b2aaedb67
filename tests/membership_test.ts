/**
 * Membership changes with real processes on loopback: a SIGKILLed node is forgotten with
 * `DELETE /_cluster/nodes/{id}` through one survivor — every survivor learns it (by
 * heartbeat), health turns green again, writes to every id succeed; a live node cannot be
 * removed (409), an unknown one is 404 (and cannot leave), a removed one cannot leave, a repeated removal changes nothing; the removed node,
 * restarted on its data directory, is refused and the survivors stay green; a replacement
 * node (a new id) joins and takes slots.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { runCommand } from "../client/commands.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

/** Runs a client command against `node`; its exit code and printed lines. */
async function client(node: ServerProcess, line: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    confirm: () => Promise.resolve(false),
  };
  const { code } = await runCommand(line, node.url, io);
  return { code, out, err };
}

const PSK = "membership-test-secret";

function startNode(dataDir: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      // One owner per slot: the counts below (1,024 slots in all, C's slots lost) are RF 1's.
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "1",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

interface NodeEntry {
  node_id: string;
  state: string;
  health: string;
  slots: number;
  version: [number, string];
}

async function nodes(node: ServerProcess): Promise<NodeEntry[]> {
  const answer = await call(node.url, "GET", "/_cluster/nodes");
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body as { nodes: NodeEntry[] }).nodes;
}

async function nodeId(node: ServerProcess): Promise<string> {
  return ((await call(node.url, "GET", "/_cluster/health")).body as { node_id: string }).node_id;
}

async function refusedHellos(node: ServerProcess): Promise<number> {
  const health = (await call(node.url, "GET", "/_cluster/health")).body as {
    telemetry: { refused_hellos: number };
  };
  return health.telemetry.refused_hellos;
}

Deno.test({
  name:
    "membership: a dead node is removed through one member, all converge, health is green again",
  sanitizeResources: false,
  sanitizeOps: false,
  // Several server processes, and latencies measured: never beside another such test.
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-membership-" });
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
        const [idA, idC] = [await nodeId(a), await nodeId(c!)];
        const listed = await nodes(b!);
        assert.deepEqual(listed.map((n) => n.state), ["up", "up", "up"]);
        assert.equal(listed.reduce((sum, n) => sum + n.slots, 0), 1_024);

        // A live node is not removed; an unknown id is 404.
        const live = await call(b!.url, "DELETE", `/_cluster/nodes/${idA}`);
        assert.equal(live.status, 409, JSON.stringify(live.body));
        assert.match((live.body as { details: string }).details, /not down/);
        assert.equal((await call(b!.url, "DELETE", "/_cluster/nodes/nobody")).status, 404);
        const nobody = await call(b!.url, "POST", "/_cluster/nodes/nobody/_leave");
        assert.equal(nobody.status, 404, "an unknown node cannot leave");

        await c!.stop("SIGKILL");
        running.splice(running.indexOf(c!), 1);
        await waitUntil(
          async () => (await nodes(b!)).find((n) => n.node_id === idC)?.health === "down",
          30_000,
          "C is down as B sees it",
        );
        const slotsOfC = (await nodes(b!)).find((n) => n.node_id === idC)!.slots;
        const removed = await call(b!.url, "DELETE", `/_cluster/nodes/${idC}`);
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
        assert.deepEqual(removed.body, {
          node_id: idC,
          state: "removed",
          already_removed: false,
          slots_lost: slotsOfC,
        });
        // A learns it by heartbeat; both are green with two nodes; the ring has two owners.
        await allGreen([a, b!], 2, "after the removal");
        for (const node of [a, b!]) {
          await waitUntil(
            async () => (await nodes(node)).find((n) => n.node_id === idC)?.state === "removed",
            30_000,
            `${node.url} knows C is removed`,
          );
          // C's slots are claimed by their desired owners, who tell the others: a moment later.
          await waitUntil(
            async () => {
              const owners = (await nodes(node)).filter((n) => n.slots > 0);
              return owners.length === 2 &&
                owners.reduce((sum, n) => sum + n.slots, 0) === 1_024 &&
                owners.every((n) => n.node_id !== idC);
            },
            30_000,
            `${node.url} shows C's slots owned by the two others`,
          );
        }
        const again = await client(a, ["cluster", "remove", idC]);
        assert.deepEqual([again.code, again.out], [0, [`node ${idC} was already removed`]]);
        const listing = await client(a, ["cluster", "nodes"]);
        assert.equal(listing.code, 0);
        assert.ok(listing.out.some((line) => line.includes(idC) && line.includes("removed")));
        const refused = await client(a, ["cluster", "leave", idC]);
        assert.equal(refused.code, 1);
        assert.match(refused.err.join("\n"), /was removed/);
        // Writes to any id succeed: no slot is left on the removed node.
        const bulk = Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, doc: { n: i } }));
        const written = await call(a.url, "POST", "/api/books/_bulk", bulk);
        assert.equal(written.status, 200, JSON.stringify(written.body));
        assert.equal((written.body as { items_failed?: number }).items_failed ?? 0, 0);

        // The removed node, back on its data directory, is refused; the others stay green.
        const refusedBefore = await refusedHellos(a);
        const c2 = await startNode(`${root}/c`, "c", [seed]);
        running.push(c2);
        await waitUntil(
          async () => await refusedHellos(a) > refusedBefore,
          30_000,
          "the removed node's hello is refused",
        );
        await allGreen([a, b!], 2, "with the removed node back");
        await c2.stop("SIGKILL");
        running.splice(running.indexOf(c2), 1);

        // A replacement (a new node id) joins and takes slots.
        const d = await startNode(`${root}/d`, "d", [seed]);
        running.push(d);
        await allGreen([a, b!, d], 3, "with the replacement");
        const idD = await nodeId(d);
        await waitUntil(
          async () => ((await nodes(a)).find((n) => n.node_id === idD)?.slots ?? 0) > 0,
          30_000,
          "the replacement owns slots",
        );
      } finally {
        await Promise.all(running.map((node) => node.stop("SIGKILL")));
        await Deno.remove(root, { recursive: true });
      }
    }),
});
