/**
 * One node against three nodes on loopback: bulk throughput and search latency through
 * HTTP, with real server processes.
 *
 *   deno task bench:cluster [--docs=N] [--batch=N] [--searches=N] [--shards=N]
 *
 * Each node gets `--shards` microshard workers (default 2), so three nodes hold three
 * times the workers of one. Bulks go through the first node (which forwards each owner's
 * part in parallel); searches go round-robin over every node, one at a time and 8 at once.
 * Every process shares this machine's cores: the figure says what the cluster costs on one
 * machine, not what it gains on three.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { call } from "../testing/http.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { percentile } from "../testing/stats.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    docs: { type: "string", default: "40000" },
    batch: { type: "string", default: "2000" },
    searches: { type: "string", default: "400" },
    shards: { type: "string", default: "2" },
  },
});
const DOCS = Number(args.values.docs);
const BATCH = Number(args.values.batch);
const SEARCHES = Number(args.values.searches);
const SHARDS = args.values.shards;

const WORDS = [
  "river",
  "stone",
  "light",
  "north",
  "garden",
  "winter",
  "silver",
  "engine",
  "harbor",
  "forest",
  "signal",
  "market",
  "copper",
  "meadow",
  "thunder",
  "lantern",
];

function doc(i: number) {
  const pick = (k: number) => WORDS[(i * 7 + k * 13 + (i >> k)) % WORDS.length];
  return {
    id: `doc-${i}`,
    doc: {
      title: `${pick(1)} ${pick(2)} ${i}`,
      body: Array.from({ length: 24 }, (_, k) => pick(k)).join(" "),
      year: 1900 + (i % 120),
      tag: `t${i % 50}`,
    },
  };
}

const QUERIES = [
  "river",
  "thunder AND lantern",
  "silver OR copper",
  '"north garden"',
  "eng*",
  "year:[1950 TO 1960]",
  "tag:t7",
];

async function startCluster(size: number, root: string): Promise<ServerProcess[]> {
  const env = {
    CAMEODB_STORAGE_NUM_SHARDS_INIT: SHARDS,
    CAMEODB_LOG: "warn",
    CAMEODB_NETWORK_CLUSTER_PSK: "bench-cluster-secret",
    // One owner per slot: what spreading costs (bench/replication_bench.ts measures RF 3).
    CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "1",
  };
  if (size === 1) return [await startServerProcess({ dataDir: `${root}/n0`, env })];
  const first = await startClusterNode({ dataDir: `${root}/n0`, env });
  const seeds = [clusterAddress(first)];
  const nodes = [
    first,
    ...await Promise.all(
      Array.from(
        { length: size - 1 },
        (_, k) => startClusterNode({ dataDir: `${root}/n${k + 1}`, seeds, env }),
      ),
    ),
  ];
  await allGreen(nodes, size, "cluster formed");
  return nodes;
}

async function measure(size: number) {
  const root = await Deno.makeTempDir({ prefix: `cameodb-bench-${size}-` });
  const nodes = await startCluster(size, root);
  try {
    const started = performance.now();
    for (let from = 0; from < DOCS; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, DOCS - from) }, (_, k) => doc(from + k));
      const answer = await call(nodes[0]!.url, "POST", "/api/bench/_bulk", batch);
      if (answer.status !== 200) throw new Error(`bulk failed: ${JSON.stringify(answer.body)}`);
    }
    const bulkSeconds = (performance.now() - started) / 1000;
    const latencies = async (concurrency: number) => {
      const times: number[] = [];
      let next = 0;
      const lane = async () => {
        while (next < SEARCHES) {
          const i = next++;
          const node = nodes[i % nodes.length]!;
          const t0 = performance.now();
          const answer = await call(node.url, "POST", "/api/bench/search", {
            query: QUERIES[i % QUERIES.length],
            limit: 10,
          });
          times.push(performance.now() - t0);
          if (answer.status !== 200) {
            throw new Error(`search failed: ${JSON.stringify(answer.body)}`);
          }
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, lane));
      const seconds = (performance.now() - t0) / 1000;
      times.sort((a, b) => a - b);
      return {
        p50_ms: Number(percentile(times, 0.5).toFixed(2)),
        p99_ms: Number(percentile(times, 0.99).toFixed(2)),
        qps: Math.round(SEARCHES / seconds),
      };
    };
    await latencies(4); // warm-up
    return {
      nodes: size,
      bulk_docs_per_s: Math.round(DOCS / bulkSeconds),
      search_c1: await latencies(1),
      search_c8: await latencies(8),
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop("SIGTERM")));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

const results = [];
for (const size of [1, 3]) results.push(await measure(size));
console.log(
  `cluster bench: ${DOCS} documents in bulks of ${BATCH}, ${SEARCHES} searches per run, ` +
    `${SHARDS} shards per node, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  "| nodes | bulk docs/s | search p50 / p99 ms (c=1) | QPS c=1 | p50 / p99 ms (c=8) | QPS c=8 |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.nodes} | ${r.bulk_docs_per_s} | ${r.search_c1.p50_ms} / ${r.search_c1.p99_ms} | ${r.search_c1.qps} | ` +
      `${r.search_c8.p50_ms} / ${r.search_c8.p99_ms} | ${r.search_c8.qps} |`,
  );
}
console.log(JSON.stringify(results));
