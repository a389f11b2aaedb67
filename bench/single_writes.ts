/**
 * Single writes (`PUT /api/docs/document`) from concurrent clients against the real server
 * process: prints documents/s and the p50/p99 of a write. `--wal-sync always|batch` and
 * `--window-ms N` set `storage.wal_sync` and `storage.wal_batch_window_ms`.
 *
 * ```sh
 * deno run -A bench/single_writes.ts --wal-sync batch --window-ms 2 --clients 16 --writes 2000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../testing/server_process.ts";
import { percentile } from "../testing/stats.ts";

const { values } = parseArgs({
  options: {
    "wal-sync": { type: "string", default: "always" },
    "window-ms": { type: "string", default: "2" },
    "clients": { type: "string", default: "16" },
    "writes": { type: "string", default: "2000" },
  },
});
const clients = Number(values.clients);
const writes = Number(values.writes);

const dataDir = await Deno.makeTempDir();
const server = await startServerProcess({
  dataDir,
  env: {
    CAMEODB_STORAGE_WAL_SYNC: values["wal-sync"],
    CAMEODB_STORAGE_WAL_BATCH_WINDOW_MS: values["window-ms"],
  },
});
async function put(i: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/docs/document`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: `d${i}`, doc: { title: `document ${i}`, n: i } }),
  });
  if (response.status !== 200) throw new Error(`write answered ${response.status}`);
  await response.body?.cancel();
  return performance.now() - started;
}
try {
  await put(-1); // creates the index
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < writes) latencies.push(await put(next++));
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `wal_sync=${values["wal-sync"]} window=${values["window-ms"]} ms, ${clients} clients: ` +
      `${Math.round(writes / seconds)} docs/s, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
      `p99 ${percentile(latencies, 0.99).toFixed(2)} ms`,
  );
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
