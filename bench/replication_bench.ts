/**
 * What replication costs: three nodes on loopback at `replication_factor` 1 and 3 — bulk
 * ingest throughput, single-write throughput and p99, point-read p50/p99, through HTTP with
 * real server processes (every process shares this machine's cores).
 *
 *   deno task bench:replication [--docs=N] [--writes=N] [--reads=N] [--concurrency=N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { percentile } from "../testing/stats.ts";
import { waitUntil } from "../testing/wait.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    docs: { type: "string", default: "20000" },
    writes: { type: "string", default: "2000" },
    reads: { type: "string", default: "4000" },
    concurrency: { type: "string", default: "8" },
  },
});
const DOCS = Number(args.values.docs);
const WRITES = Number(args.values.writes);
const READS = Number(args.values.reads);
const CONCURRENCY = Number(args.values.concurrency);
/** Documents per bulk request. */
const BATCH_DOCS = 1_000;

async function startThree(rf: number, root: string): Promise<ServerProcess[]> {
  const env = {
    CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
    CAMEODB_LOG: "warn",
    CAMEODB_NETWORK_CLUSTER_PSK: "bench-replication-secret",
    CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: String(rf),
  };
  const first = await startClusterNode({ dataDir: `${root}/n0`, env });
  const seeds = [clusterAddress(first)];
  const nodes = [first];
  for (let k = 1; k < 3; k++) {
    nodes.push(await startClusterNode({ dataDir: `${root}/n${k}`, seeds, env }));
  }
  await Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const h = (await call(node.url, "GET", "/_cluster/health")).body as {
          status: string;
          connected_nodes: number;
        };
        if (h.status !== "green" || h.connected_nodes !== 3) return false;
        const listed = (await call(node.url, "GET", "/_cluster/nodes")).body as {
          nodes: Array<{ slots: number }>;
        };
        // Every slot on its rf replicas: 1,024 × rf slot places in all.
        return listed.nodes.reduce((sum, member) => sum + member.slots, 0) === 1_024 * rf;
      },
      180_000,
      `${node.url} green with 3 nodes, nothing moving`,
    )
  ));
  return nodes;
}

/** Runs `count` operations, `CONCURRENCY` at once; returns their latencies in ms and the seconds. */
async function timed(count: number, op: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      const at = performance.now();
      await op(i);
      latencies.push(performance.now() - at);
    }
  }));
  return {
    latencies: latencies.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
  };
}

async function measure(rf: number) {
  const root = await Deno.makeTempDir({ prefix: `cameodb-bench-rf${rf}-` });
  const nodes = await startThree(rf, root);
  try {
    const started = performance.now();
    for (let from = 0; from < DOCS; from += BATCH_DOCS) {
      const batch = Array.from(
        { length: Math.min(BATCH_DOCS, DOCS - from) },
        (_, k) => ({ id: `d${from + k}`, doc: { n: from + k, title: `document ${from + k}` } }),
      );
      const answer = await call(nodes[0]!.url, "POST", "/api/bench/_bulk", batch);
      const written = (answer.body as { items_written?: number }).items_written;
      if (answer.status !== 200 || written !== batch.length) {
        throw new Error(`bulk failed: ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
    }
    const bulkDocsPerS = DOCS / ((performance.now() - started) / 1000);
    const writes = await timed(WRITES, async (i) => {
      const node = nodes[i % 3]!;
      const answer = await call(node.url, "PUT", "/api/bench/document", {
        id: `w${i}`,
        doc: { n: i, title: `write ${i}` },
      });
      if (answer.status !== 200) throw new Error(`write failed: ${JSON.stringify(answer.body)}`);
    });
    const reads = await timed(READS, async (i) => {
      const node = nodes[i % 3]!;
      const answer = await call(node.url, "GET", `/api/bench/document/d${(i * 7919) % DOCS}`);
      if (answer.status !== 200) throw new Error(`read failed: ${JSON.stringify(answer.body)}`);
    });
    return {
      rf,
      bulkDocsPerS: Math.round(bulkDocsPerS),
      writesPerS: Math.round(WRITES / writes.seconds),
      writeP50Ms: percentile(writes.latencies, 0.5),
      writeP99Ms: percentile(writes.latencies, 0.99),
      readP50Ms: percentile(reads.latencies, 0.5),
      readP99Ms: percentile(reads.latencies, 0.99),
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

const results = [];
for (const rf of [1, 3]) results.push(await measure(rf));
const ms = (value: number) => value.toFixed(1);
console.log(
  `three nodes, ${DOCS} documents in bulks of ${BATCH_DOCS}, ${WRITES} single writes and ` +
    `${READS} point reads, ${CONCURRENCY} at once, round-robin over the nodes`,
);
console.log("| RF | bulk docs/s | single writes/s | write p50 / p99 ms | read p50 / p99 ms |");
console.log("| -: | ---------: | -------------: | -----------------: | ----------------: |");
for (const r of results) {
  console.log(
    `| ${r.rf} | ${r.bulkDocsPerS} | ${r.writesPerS} | ${ms(r.writeP50Ms)} / ${
      ms(r.writeP99Ms)
    } | ${ms(r.readP50Ms)} / ${ms(r.readP99Ms)} |`,
  );
}
console.log(JSON.stringify(results));
