/** NDJSON ingest and search streaming against the real server process. */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

Deno.test({
  name: "stream: NDJSON ingest in batches with per-line errors; NDJSON search with a footer",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({
      dataDir,
      env: { CAMEODB_STORAGE_DEFAULT_BATCH_SIZE: "7" },
    });
    try {
      const lines = Array.from(
        { length: 40 },
        (_, i) => JSON.stringify({ id: `d${i}`, doc: { title: `doc ${i}`, n: i } }),
      );
      lines.splice(10, 0, "{not json");
      lines.splice(20, 0, JSON.stringify({ id: "bad", doc: { n: "x" } }));
      lines.splice(30, 0, "");
      // Sent in small chunks that split lines, as a slow client would.
      const body = new TextEncoder().encode(lines.join("\n") + "\n");
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < body.length; at += 37) {
            controller.enqueue(body.subarray(at, at + 37));
          }
          controller.close();
        },
      });
      const response = await fetch(`${server.url}/api/docs/document/stream`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: stream,
      });
      const answer = await response.json();
      assert.equal(response.status, 200, JSON.stringify(answer));
      assert.equal(answer.status, "partial");
      assert.equal(answer.items_written, 40);
      assert.equal(answer.lines_received, 42);
      assert.ok(answer.batches >= 6, `only ${answer.batches} batches`);
      assert.match(answer.errors[0], /^line 11: not valid JSON/);
      assert.match(answer.errors[1], /^line 21: .*field "n" expects i64, got "x"/);

      const search = await fetch(`${server.url}/api/docs/search/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "* sort n:desc", limit: 3 }),
      });
      assert.equal(search.headers.get("content-type"), "application/x-ndjson");
      const out = (await search.text()).trim().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(out.slice(0, 3).map((hit) => hit.id), ["d39", "d38", "d37"]);
      assert.equal(out[3]._footer.total_hits, 40);
      assert.equal(out[3]._footer.hits_returned, 3);

      const wrongType = await fetch(`${server.url}/api/docs/document/stream`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "{}",
      });
      assert.equal(wrongType.status, 415);
      await wrongType.body?.cancel();
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
