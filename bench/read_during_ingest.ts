/**
 * Point reads during a bulk ingest, against the real server process: prints the idle and
 * the during-ingest point-read latencies (p50/p99) and the ingest's documents/s. The shape of
 * `tests/read_during_ingest_test.ts`, with bulks of 5,000 documents of ~40 words and the figure
 * printed rather than bounded; the reads during the ingest are paced (one every
 * `--read-interval-ms`, 5 by default, or back to back when they are slower). `--point-reads`
 * sets `storage.point_reads` (`main`, `workers` or `shards`), `--reader-workers N`
 * `storage.reader_workers` (with `workers`), `--niceness N` `storage.shard_worker_niceness`.
 *
 * ```sh
 * deno run -A bench/read_during_ingest.ts --point-reads main --docs 40000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../testing/server_process.ts";
import { percentile } from "../testing/stats.ts";

const { values } = parseArgs({
  options: {
    "point-reads": { type: "string", default: "main" },
    "reader-workers": { type: "string", default: "2" },
    "docs": { type: "string", default: "40000" },
    "niceness": { type: "string", default: "10" },
    "read-interval-ms": { type: "string", default: "5" },
  },
});
const DOCUMENTS = Number(values.docs);
const BULK = 5_000;
const WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron " +
  "pi rho sigma tau upsilon phi chi psi omega library tool package data server client").split(" ");
let seed = 7;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
function text(words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

async function bulk(base: string, from: number, count: number): Promise<void> {
  const response = await fetch(`${base}/api/docs/_bulk`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(Array.from({ length: count }, (_, i) => ({
      id: `d${from + i}`,
      doc: { title: text(4), text: text(40), n: from + i, kind: `k${(from + i) % 7}` },
    }))),
  });
  if (response.status !== 200) throw new Error(`bulk answered ${response.status}`);
  await response.body?.cancel();
}

async function read(base: string, id: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/api/docs/document/${id}`);
  if (response.status !== 200) throw new Error(`read answered ${response.status}`);
  await response.body?.cancel();
  return performance.now() - started;
}

const dataDir = await Deno.makeTempDir();
const server = await startServerProcess({
  dataDir,
  env: {
    CAMEODB_STORAGE_POINT_READS: values["point-reads"],
    CAMEODB_STORAGE_READER_WORKERS: values["reader-workers"],
    CAMEODB_STORAGE_SHARD_WORKER_NICENESS: values.niceness,
  },
});
try {
  await bulk(server.url, 0, 2_000);
  const idle: number[] = [];
  for (let i = 0; i < 500; i++) idle.push(await read(server.url, `d${(i * 7) % 2_000}`));
  let done = false;
  const started = performance.now();
  const ingest = (async () => {
    for (let at = 2_000; at < 2_000 + DOCUMENTS; at += 2 * BULK) {
      await Promise.all([bulk(server.url, at, BULK), bulk(server.url, at + BULK, BULK)]);
    }
  })().finally(() => (done = true));
  ingest.catch(() => {});
  // Paced, not a closed loop: as many reads whatever their speed, so the ingest figures of
  // two settings compare (a closed loop of fast reads takes cores from the ingest).
  const intervalMs = Number(values["read-interval-ms"]);
  const during: number[] = [];
  for (let next = performance.now(); !done; next += intervalMs) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    during.push(await read(server.url, `d${(during.length * 13) % 2_000}`));
  }
  await ingest;
  const seconds = (performance.now() - started) / 1000;
  idle.sort((a, b) => a - b);
  during.sort((a, b) => a - b);
  const f = (xs: number[], q: number) => percentile(xs, q).toFixed(2);
  console.log(
    `point_reads=${values["point-reads"]} reader_workers=${values["reader-workers"]} ` +
      `shard_worker_niceness=${values.niceness}: ` +
      `idle p50/p99 ${f(idle, 0.5)}/${f(idle, 0.99)} ms; ` +
      `during ingest p50/p99 ${f(during, 0.5)}/${f(during, 0.99)} ms max ${
        during[during.length - 1]!.toFixed(1)
      } ms over ${during.length} reads; ingest ${Math.round(DOCUMENTS / seconds)} docs/s`,
  );
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
