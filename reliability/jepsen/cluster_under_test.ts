/**
 * The cluster a Jepsen-style run tests: real `cameodb serve --cluster` processes on
 * loopback, each with its own data directory, that the nemesis kills, pauses, wipes,
 * restarts, adds and removes, and that clients reach through whichever nodes are live.
 *
 * A restarted node gets new ports (port 0), so its URL and cluster address change; it is
 * seeded with the addresses of the nodes that are up, so it finds the cluster again even
 * when the node it first joined through is the one that was down.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import type { ServerProcess } from "../../testing/server_process.ts";
import { clusterAddress, startClusterNode, wipeDataDir } from "../../testing/cluster.ts";
import { waitUntil } from "../../testing/wait.ts";

/** The pre-shared key of the cluster under test. */
export const JEPSEN_PSK = "jepsen-suite-cluster-secret";

/** What a node is doing, as the nemesis made it. */
export type NodeState = "up" | "killed" | "paused" | "gone";

/** One node of the cluster under test. */
export interface TestNode {
  readonly label: string;
  readonly dataDir: string;
  state: NodeState;
  process?: ServerProcess | undefined;
  /** Its node id (kept in its data directory; a node that joins gets a new one). */
  nodeId?: string;
}

/** Options of {@linkcode ClusterUnderTest.start}. */
export interface ClusterOptions {
  nodes: number;
  /** Local shards per node. */
  shards?: number;
  /** How long any one wait (a start, a turn to green) may take, in ms. */
  waitMs?: number;
  /** `network.cluster.replication_factor` of every node; the server's default when absent. */
  replicationFactor?: number;
  /** `network.cluster.read_quorum` of every node; the server's default when absent. */
  readQuorum?: number;
  /** `network.cluster.anti_entropy_interval_ms` of every node; the default when absent. */
  antiEntropyIntervalMs?: number;
}

/** The nodes, their processes and the waits on their health. */
export class ClusterUnderTest {
  readonly root: string;
  readonly nodes: TestNode[] = [];
  readonly waitMs: number;
  readonly #shards: number;
  /** The environment every node starts with beyond the test's own settings. */
  readonly #env: Record<string, string>;

  private constructor(root: string, shards: number, waitMs: number, env: Record<string, string>) {
    this.root = root;
    this.#shards = shards;
    this.waitMs = waitMs;
    this.#env = env;
  }

  /** Starts `nodes` nodes (the first alone, the others seeded with it) and waits for green. */
  static async start(options: ClusterOptions): Promise<ClusterUnderTest> {
    const root = await Deno.makeTempDir({ prefix: "cameodb-jepsen-" });
    const cluster = new ClusterUnderTest(
      root,
      options.shards ?? 2,
      options.waitMs ?? 60_000,
      {
        ...(options.replicationFactor === undefined ? {} : {
          CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: String(options.replicationFactor),
        }),
        ...(options.readQuorum === undefined
          ? {}
          : { CAMEODB_NETWORK_CLUSTER_READ_QUORUM: String(options.readQuorum) }),
        ...(options.antiEntropyIntervalMs === undefined ? {} : {
          CAMEODB_NETWORK_CLUSTER_ANTI_ENTROPY_INTERVAL_MS: String(options.antiEntropyIntervalMs),
        }),
      },
    );
    try {
      for (let i = 0; i < options.nodes; i++) await cluster.add();
      await cluster.green();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Nodes clients may use: up (not killed, paused or gone). */
  live(): TestNode[] {
    return this.nodes.filter((node) => node.state === "up" && node.process !== undefined);
  }

  /** Nodes that are members: every node not gone. */
  members(): TestNode[] {
    return this.nodes.filter((node) => node.state !== "gone");
  }

  /** The label the next node {@linkcode ClusterUnderTest.add} starts will have. */
  nextLabel(): string {
    return `n${this.nodes.length + 1}`;
  }

  /** Starts a new node (a new data directory, a new node id) seeded with the live ones. */
  async add(): Promise<TestNode> {
    const label = this.nextLabel();
    const node: TestNode = { label, dataDir: `${this.root}/${label}`, state: "killed" };
    this.nodes.push(node);
    await this.restart(node);
    return node;
  }

  /** Starts `node`'s process on its data directory, seeded with every live node (or `seeds`). */
  async restart(node: TestNode, options: { seeds?: readonly TestNode[] } = {}): Promise<void> {
    const seeds = (options.seeds ?? this.live()).filter((other) => other !== node).map((
      other,
    ) => clusterAddress(other.process!));
    node.process = await startClusterNode({
      dataDir: node.dataDir,
      label: node.label,
      seeds,
      env: {
        CAMEODB_NETWORK_CLUSTER_PSK: JEPSEN_PSK,
        CAMEODB_STORAGE_NUM_SHARDS_INIT: String(this.#shards),
        CAMEODB_LOG: "error",
        ...this.#env,
      },
    });
    node.nodeId = await nodeIdOf(node.process.url);
    // Like a load balancer's readiness check: clients use it once it holds the cluster's
    // view (a joining node refuses data requests with 503).
    const url = node.process.url;
    await waitUntil(
      async () =>
        ((await call(url, "GET", "/_cluster/health")).body as { joining?: boolean }).joining ===
          false,
      this.waitMs,
      `${node.label} joined`,
    );
    node.state = "up";
  }

  /** SIGKILLs `node`'s process. */
  async kill(node: TestNode): Promise<void> {
    node.state = "killed";
    const process = node.process;
    node.process = undefined;
    await process?.stop("SIGKILL");
  }

  /** SIGSTOPs `node`'s process: it holds its connections and answers nothing. */
  pause(node: TestNode): void {
    node.state = "paused";
    Deno.kill(node.process!.child.pid, "SIGSTOP");
  }

  /** SIGCONTs a paused node. */
  resume(node: TestNode): void {
    Deno.kill(node.process!.child.pid, "SIGCONT");
    node.state = "up";
  }

  /**
   * Removes everything in a killed node's data directory except its identity (`node_id`
   * and `cluster.key`): a lost disk, replaced, with the node's identity restored from
   * its configuration — so it comes back as the same member, holding nothing.
   */
  wipe(node: TestNode): Promise<void> {
    return wipeDataDir(node.dataDir);
  }

  /** Resolves once every live node is green with every member connected. */
  green(): Promise<void> {
    const total = this.members().length;
    return Promise.all(
      this.live().map((node) =>
        waitUntil(
          async () => {
            const health = (await call(node.process!.url, "GET", "/_cluster/health")).body as {
              status?: string;
              total_nodes?: number;
              connected_nodes?: number;
            };
            return health.status === "green" && health.total_nodes === total &&
              health.connected_nodes === total;
          },
          this.waitMs,
          `${node.label} green with ${total} nodes`,
        )
      ),
    ).then(() => {});
  }

  /** Resolves once `through` sees `node` in health `health` (`down`, `suspect`, `up`). */
  async sees(through: TestNode, node: TestNode, health: string): Promise<void> {
    await waitUntil(
      async () => {
        const answer = await call(through.process!.url, "GET", "/_cluster/nodes");
        const nodes = (answer.body as { nodes?: Array<{ node_id: string; health?: string }> })
          .nodes ?? [];
        return nodes.find((n) => n.node_id === node.nodeId)?.health === health;
      },
      this.waitMs,
      `${through.label} sees ${node.label} ${health}`,
    );
  }

  /** Stops every process (SIGCONT first, so a paused one can die) and removes the data. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map(async (node) => {
      if (node.process === undefined) return;
      try {
        Deno.kill(node.process.child.pid, "SIGCONT");
      } catch { /* already gone */ }
      await node.process.stop("SIGKILL");
      node.process = undefined;
    }));
    await Deno.remove(this.root, { recursive: true });
  }
}

async function nodeIdOf(url: string): Promise<string> {
  const answer = await call(url, "GET", "/_cluster/health");
  return (answer.body as { node_id: string }).node_id;
}
