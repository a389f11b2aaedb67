/**
 * Zone-aware replica placement with real processes on loopback (issue 16): three nodes with
 * `replication_factor` 2, two of them in zone `east` and one in `west`. Every slot's two
 * replicas must be in different zones, so the `west` node holds all 1,024 slots and the two
 * `east` nodes share the other copy of each (1,024 between them).
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

const PSK = "zones-test-secret-key";

function startNode(root: string, label: string, zone: string, seeds: string[]) {
  return startClusterNode({
    dataDir: `${root}/${label}`,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "2",
      CAMEODB_NETWORK_CLUSTER_MAX_SLOTS_MOVING: "32",
      CAMEODB_NODE_ZONE: zone,
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "warn",
    },
  });
}

/** Slots served per node name, once nothing moves. */
async function slotsByName(node: ServerProcess): Promise<Record<string, number> | undefined> {
  const health = (await call(node.url, "GET", "/_cluster/health")).body as {
    rebalancing?: { slots_moving: number };
  };
  if (health.rebalancing?.slots_moving !== 0) return undefined;
  const nodes = (await call(node.url, "GET", "/_cluster/nodes")).body as {
    nodes: Array<{ name: string; slots: number }>;
  };
  return Object.fromEntries(nodes.nodes.map((member) => [member.name, member.slots]));
}

Deno.test({
  name: "zones: with replication_factor 2 and two zones, every slot has a replica in each zone",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMachineLock("cluster", async () => {
      const root = await Deno.makeTempDir({ prefix: "cameodb-zones-" });
      const running: ServerProcess[] = [];
      try {
        const a = await startNode(root, "a", "east", []);
        running.push(a);
        const seed = clusterAddress(a);
        running.push(await startNode(root, "b", "east", [seed]));
        running.push(await startNode(root, "c", "west", [seed]));
        await allGreen(running, 3, "three nodes in two zones");
        const placed = await waitUntil(
          async () => {
            const slots = await slotsByName(a);
            const settled = slots?.c === 1_024 && (slots.a ?? 0) + (slots.b ?? 0) === 1_024;
            return settled ? slots : undefined;
          },
          120_000,
          "west holds every slot, east the other copy",
        );
        // Both east nodes hold a share (the ring spreads the east copies over them).
        assert.ok((placed.a ?? 0) > 0 && (placed.b ?? 0) > 0, JSON.stringify(placed));
      } finally {
        await Promise.all(running.map((node) => node.stop()));
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    }),
});
