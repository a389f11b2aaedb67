/**
 * Point reads stay responsive while a large bulk ingest runs (storage is off the main
 * isolate). Prints the idle and the during-ingest latencies; the bound is generous — the
 * benchmark suite reports the real figures.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { percentile } from "../testing/stats.ts";

async function read(base: string, id: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/api/docs/document/${id}`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  return performance.now() - started;
}

Deno.test({
  name: "ingest: point reads during a large bulk ingest stay within a generous bound of idle",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir });
    try {
      const bulk = (from: number, count: number) =>
        fetch(`${server.url}/api/docs/_bulk`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(Array.from({ length: count }, (_, i) => ({
            id: `d${from + i}`,
            doc: { title: `document ${from + i} about storage and search`, n: from + i },
          }))),
        }).then(async (response) => {
          assert.equal(response.status, 200);
          assert.equal((await response.json()).items_written, count);
        });
      await bulk(0, 1_000);
      const idle: number[] = [];
      for (let i = 0; i < 200; i++) idle.push(await read(server.url, `d${(i * 7) % 1_000}`));

      // 40,000 documents in 20 bulks, two at a time, while reads go on.
      let done = false;
      const ingest = (async () => {
        for (let b = 0; b < 20; b += 2) {
          await Promise.all([bulk(1_000 + b * 2_000, 2_000), bulk(3_000 + b * 2_000, 2_000)]);
        }
      })().finally(() => (done = true));
      // Observed now: a failed bulk must fail the test, not go unhandled during a read.
      ingest.catch(() => {});
      const during: number[] = [];
      while (!done) during.push(await read(server.url, `d${(during.length * 13) % 1_000}`));
      await ingest;

      idle.sort((a, b) => a - b);
      during.sort((a, b) => a - b);
      const idleP50 = percentile(idle, 0.5), idleP99 = percentile(idle, 0.99);
      const busyP50 = percentile(during, 0.5), busyP99 = percentile(during, 0.99);
      console.log(
        `point read p50/p99: idle ${idleP50.toFixed(2)}/${
          idleP99.toFixed(2)
        } ms; during ingest of 40k documents ` +
          `${busyP50.toFixed(2)}/${busyP99.toFixed(2)} ms over ${during.length} reads`,
      );
      // Enough reads for the figure to mean something; how many fit depends on what else the
      // machine runs (the test suite runs files in parallel, the cluster test with 3 processes).
      assert.ok(during.length >= 10, `only ${during.length} reads completed during the ingest`);
      // Measured alone on 2 shared cores: before the reader workers p99 0.46–1.6 s (p50 6–40
      // ms) over 32–52 reads; with them (load average 17 from other jobs) p99 23.9 ms (idle
      // 13.5, p50 0.9) over 7,378 reads. The bound leaves room for the parallel suite; a read
      // held for the whole ingest (5–10 s) still fails it.
      assert.ok(busyP99 < 4_000, `p99 during ingest ${busyP99} ms`);
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
