/**
 * `storage.wal_sync` end to end: the setting read by the real server process changes when a
 * write is acknowledged. With `batch`, a shard holding a write waits `wal_batch_window_ms`
 * for more writers before its (durable) commit, so no write is acknowledged sooner; with
 * `always`, a lone write is committed at once.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

/** The commit window of the `batch` run, far above a lone write's commit on this machine. */
const WINDOW_MS = 400;
const WRITES = 6;

/** The fastest of `WRITES` sequential single writes, in ms; each one read back. */
async function fastestWrite(env: Record<string, string>): Promise<number> {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir, env });
  try {
    let fastest = Infinity;
    for (let i = 0; i < WRITES; i++) {
      const started = performance.now();
      const response = await fetch(`${server.url}/api/docs/document`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: `d${i}`, doc: { n: i } }),
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      fastest = Math.min(fastest, performance.now() - started);
      // Acknowledged means committed: the document is there.
      const read = await fetch(`${server.url}/api/docs/document/d${i}`);
      assert.equal((await read.json()).doc.n, i);
    }
    return fastest;
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test({
  name: "wal_sync: batch holds each commit for its window; always commits a lone write at once",
  sanitizeResources: false,
  async fn() {
    const batch = await fastestWrite({
      CAMEODB_STORAGE_WAL_SYNC: "batch",
      CAMEODB_STORAGE_WAL_BATCH_WINDOW_MS: String(WINDOW_MS),
    });
    const always = await fastestWrite({ CAMEODB_STORAGE_WAL_SYNC: "always" });
    console.log(
      `fastest single write: batch ${batch.toFixed(1)} ms, always ${always.toFixed(1)} ms`,
    );
    assert.ok(batch >= WINDOW_MS, `a batch-mode write was acknowledged in ${batch} ms`);
    assert.ok(always < WINDOW_MS, `the fastest always-mode write took ${always} ms`);
  },
});
