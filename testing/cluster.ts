/**
 * Cluster nodes as real processes, for the cluster test and the cluster benchmark: start
 * one with `--cluster` on a free port, read its libp2p address from its start line, wait
 * until every node sees the whole cluster connected.
 *
 * @module
 */

import { call } from "./http.ts";
import { type ServerProcess, startServerProcess } from "./server_process.ts";
import { waitUntil } from "./wait.ts";

/** Starts `cameodb serve --cluster --cluster-port 0` joining `seeds`. */
export function startClusterNode(
  options: { dataDir: string; label?: string; seeds?: string[]; env?: Record<string, string> },
): Promise<ServerProcess> {
  const seeds = options.seeds ?? [];
  return startServerProcess({
    dataDir: options.dataDir,
    args: [
      "--cluster",
      "--cluster-port",
      "0",
      ...(options.label === undefined ? [] : ["--node-label", options.label]),
      ...(seeds.length === 0 ? [] : ["--seed-nodes", seeds.join(",")]),
    ],
    env: options.env ?? {},
    startTimeoutMs: 60_000,
  });
}

/** What a node keeps of its data directory when its disk is lost: its identity. */
const IDENTITY_FILES = new Set(["node_id", "cluster.key"]);

/**
 * Removes everything in a stopped node's data directory but its identity (`node_id`,
 * `cluster.key`): a lost disk replaced, so the node restarts as the same member holding nothing.
 */
export async function wipeDataDir(dataDir: string): Promise<void> {
  for await (const entry of Deno.readDir(dataDir)) {
    if (IDENTITY_FILES.has(entry.name)) continue;
    await Deno.remove(`${dataDir}/${entry.name}`, { recursive: true });
  }
}

/** The node's cluster address, from its start line. */
export function clusterAddress(node: ServerProcess): string {
  const match = node.output().match(/peer \S+ on (\S+)/);
  if (match === null) throw new Error(`no cluster address in:\n${node.output()}`);
  return match[1]!;
}

/** Resolves once every node reports `green` with `total` nodes, all connected. */
export function allGreen(nodes: readonly ServerProcess[], total: number, what: string) {
  return Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const health = (await call(node.url, "GET", "/_cluster/health")).body as {
          status: string;
          total_nodes: number;
          connected_nodes: number;
        };
        return health.status === "green" && health.total_nodes === total &&
          health.connected_nodes === total;
      },
      60_000,
      `${what}: ${node.url} green with ${total} nodes`,
    )
  ));
}
