/**
 * What a point read costs over HTTP, against what any request costs: the p50 of `--reads`
 * reads of one document through Deno's `fetch`, the same reads as raw HTTP/1.1 requests on one
 * keep-alive socket, and `GET /health` both ways — two rounds, one server process.
 *
 * ```sh
 * deno run -A bench/point_read_probe.ts [--reads 3000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../testing/server_process.ts";
import { call } from "../testing/http.ts";
import { percentile } from "../testing/stats.ts";

const ROUNDS = 2;
const READ_BUFFER_BYTES = 65_536;

const { values } = parseArgs({ options: { reads: { type: "string", default: "3000" } } });
const reads = Number(values.reads);

/** The p50 of `count` runs of `once`, in ms. */
async function p50(count: number, once: () => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 0.5).toFixed(3);
}

/** Sends `request` on `conn` and reads until a whole answer (by its content-length) is in. */
async function exchange(conn: Deno.Conn, request: Uint8Array): Promise<void> {
  await conn.write(request);
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  const decoder = new TextDecoder();
  let got = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the server closed the connection");
    got += decoder.decode(buffer.subarray(0, n));
    const length = got.match(/content-length: (\d+)\r\n/i);
    const headersEnd = got.indexOf("\r\n\r\n");
    if (length !== null && headersEnd >= 0 && got.length - headersEnd - 4 >= Number(length[1])) {
      return;
    }
  }
}

const dataDir = await Deno.makeTempDir();
const server = await startServerProcess({ dataDir, env: { CAMEODB_LOG: "warn" } });
try {
  const put = await call(server.url, "PUT", "/api/docs/document", {
    id: "d1",
    doc: { title: "hello world", n: 1 },
  });
  if (put.status !== 200) throw new Error(`put answered ${put.status}`);
  const path = "/api/docs/document/d1";
  const get = (of: string) =>
    new TextEncoder().encode(`GET ${of} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
  for (let round = 0; round < ROUNDS; round++) {
    const viaFetch = await p50(reads, async () => {
      const answer = await fetch(`${server.url}${path}`);
      await answer.arrayBuffer();
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const raw = await p50(reads, () => exchange(conn, get(path)));
    const rawHealth = await p50(reads, () => exchange(conn, get("/health")));
    conn.close();
    const health = await p50(reads, async () => {
      const answer = await fetch(`${server.url}/health`);
      await answer.arrayBuffer();
    });
    console.log(
      `round ${round}: a document read p50 ${viaFetch} ms through fetch, ${raw} ms on a raw ` +
        `keep-alive socket; GET /health p50 ${health} ms through fetch, ${rawHealth} ms raw`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
