/**
 * Slow and greedy clients against the real server process: headers sent at 1 byte/s,
 * bodies dripped over many connections, stalled bodies, one client opening too many
 * connections, and a huge NDJSON line. Health must keep answering fast throughout; the
 * health-check p99 under each attack is printed (and quoted in docs/reliability.md).
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { withDeadline } from "../testing/deadline.ts";
import { percentile } from "../testing/stats.ts";

const encoder = new TextEncoder();

/** A raw TCP connection to the server, reading what it answers in the background. */
async function rawConnection(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let received = "";
  const closed = (async () => {
    const buffer = new Uint8Array(4096);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
    } catch { /* reset by the server */ }
    return performance.now();
  })();
  return {
    /** Writes `text`; false when the server has closed the connection. */
    async send(text: string): Promise<boolean> {
      try {
        await conn.write(encoder.encode(text));
        return true;
      } catch {
        return false;
      }
    },
    received: () => received,
    closed,
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** Polls health until `done` resolves; returns each answer's latency (ms) and status. */
async function pollHealth(url: string, done: Promise<unknown>) {
  let stop = false;
  done.finally(() => stop = true);
  const latencies: number[] = [];
  const statuses: number[] = [];
  while (!stop) {
    const start = performance.now();
    const response = await fetch(`${url}/_cluster/health`);
    await response.body?.cancel();
    latencies.push(performance.now() - start);
    statuses.push(response.status);
  }
  latencies.sort((a, b) => a - b);
  return { latencies, statuses, p99: percentile(latencies, 0.99) };
}

function report(what: string, health: { latencies: number[]; p99: number }) {
  console.log(
    `${what}: ${health.latencies.length} health checks, p50 ${
      percentile(health.latencies, 0.5).toFixed(1)
    } ms, p99 ${health.p99.toFixed(1)} ms, max ${health.latencies.at(-1)?.toFixed(1)} ms`,
  );
}

const ENV = {
  CAMEODB_LOG: "error",
  CAMEODB_NETWORK_HTTP_HEADER_TIMEOUT_SECS: "2",
  CAMEODB_NETWORK_HTTP_BODY_IDLE_TIMEOUT_SECS: "2",
  CAMEODB_NETWORK_HTTP_MAX_CONCURRENT_REQUESTS: "64",
  CAMEODB_NETWORK_HTTP_RESERVED_CONCURRENT_REQUESTS: "16",
  CAMEODB_NETWORK_HTTP_MAX_CONNECTIONS_PER_CLIENT: "512",
  CAMEODB_NETWORK_HTTP_MAX_REQUESTS_PER_CLIENT: "512",
  CAMEODB_NETWORK_HTTP_MAX_LINE_SIZE_MB: "20",
};

async function withServer(
  env: Record<string, string>,
  fn: (server: { url: string; port: number }) => Promise<void>,
) {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir, env: { ...ENV, ...env } });
  try {
    await fn(server);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("slow clients: headers sent at 1 byte/s are cut off at the header timeout", async () => {
  await withServer({}, async (server) => {
    const slow = await rawConnection(server.port);
    const start = performance.now();
    const request = "GET /_cluster/health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: " +
      "a".repeat(100);
    let sent = 0;
    const dripping = (async () => {
      for (const char of request) {
        if (!await slow.send(char)) return;
        sent++;
        // The attack itself: one byte per second (not a wait for a condition).
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 1_000)), slow.closed]);
      }
    })();
    const closedAt = await withDeadline(slow.closed, 10_000, "the slow connection to be closed");
    const afterMs = closedAt - start;
    console.log(`slow headers: closed after ${afterMs.toFixed(0)} ms, ${sent} bytes sent`);
    assert.ok(afterMs >= 1_500 && afterMs < 4_000, `closed after ${afterMs} ms (timeout 2 s)`);
    slow.close();
    await dripping;
    // A normal client is served as before.
    assert.equal(
      (await fetch(`${server.url}/_cluster/health`).then((r) => r.json())).status,
      "green",
    );
  });
});

Deno.test("slow clients: 256 connections dripping a body do not lock health out", async () => {
  await withServer({}, async (server) => {
    const drips = await Promise.all(
      Array.from({ length: 256 }, () => rawConnection(server.port)),
    );
    const head =
      "PUT /api/drip/document HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
      "content-length: 100000\r\n\r\n";
    await Promise.all(drips.map((drip) => drip.send(head + "{")));
    // Every dripper sends one byte every 500 ms (under the 2 s body idle timeout) for 6 s.
    const attack = (async () => {
      for (let round = 0; round < 12; round++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await Promise.all(drips.map((drip) => drip.send(" ")));
      }
    })();
    const health = await pollHealth(server.url, attack);
    report("256 body drippers", health);
    assert.ok(health.statuses.every((status) => status === 200), "health always 200");
    assert.ok(health.p99 < 1_000, `health p99 ${health.p99} ms`);
    // Data requests beyond their share (64 - 16 reserved) were refused with 503 at once.
    const refused = drips.filter((drip) => /^HTTP\/1\.1 503/.test(drip.received())).length;
    assert.ok(refused >= 256 - 48, `${refused} drippers refused`);
    for (const drip of drips) drip.close();
  });
});

Deno.test("slow clients: a stalled body is answered 408 after the body idle timeout", async () => {
  await withServer({}, async (server) => {
    const stalled = await rawConnection(server.port);
    await stalled.send(
      "PUT /api/stall/document HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
        'content-length: 1000\r\n\r\n{"id": "a", ',
    );
    const start = performance.now();
    await withDeadline(stalled.closed, 10_000, "the stalled request to be answered");
    const afterMs = performance.now() - start;
    assert.match(stalled.received(), /^HTTP\/1\.1 408/);
    assert.match(stalled.received(), /the body sent nothing for 2000 ms/);
    assert.ok(afterMs < 5_000, `answered after ${afterMs} ms`);
    stalled.close();
    // Nothing was written.
    const get = await fetch(`${server.url}/api/stall/document/a`);
    assert.equal(get.status, 404);
    await get.body?.cancel();
  });
});

Deno.test("slow clients: one client's connections past its cap are answered 503", async () => {
  await withServer({ CAMEODB_NETWORK_HTTP_MAX_CONNECTIONS_PER_CLIENT: "8" }, async (server) => {
    const held = await Promise.all(Array.from({ length: 8 }, () => rawConnection(server.port)));
    await Promise.all(
      held.map((conn) => conn.send("GET /_cluster/health HTTP/1.1\r\nhost: 127.0.0.1\r\n")),
    );
    const extra = await fetch(`${server.url}/_cluster/health`);
    assert.equal(extra.status, 503);
    assert.equal(extra.headers.get("retry-after"), "1");
    assert.match((await extra.json()).details, /too many connections/);
    for (const conn of held) conn.close();
    // Once they are gone the client is served again.
    await withDeadline(
      (async () => {
        for (;;) {
          const response = await fetch(`${server.url}/_cluster/health`);
          await response.body?.cancel();
          if (response.status === 200) return;
        }
      })(),
      5_000,
      "health to answer 200 again",
    );
  });
});

Deno.test("NDJSON: one 15 MB line keeps health fast; a line over max_line_size_mb is 413", async () => {
  await withServer({}, async (server) => {
    const big = JSON.stringify({ id: "big", doc: { body: "word ".repeat(3 * 1024 * 1024) } });
    const lines = [big, JSON.stringify({ id: "small", doc: { body: "hi" } })].join("\n") + "\n";
    const ingest = fetch(`${server.url}/api/nd/document/stream`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: lines,
    }).then((response) => response.json());
    const health = await pollHealth(server.url, ingest);
    report("one 15 MB NDJSON line", health);
    const answer = await ingest;
    assert.equal(answer.items_written, 2, JSON.stringify(answer).slice(0, 300));
    assert.ok(health.p99 < 1_000, `health p99 ${health.p99} ms`);

    const tooLong = await fetch(`${server.url}/api/nd/document/stream`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: JSON.stringify({ id: "huge", doc: { body: "x".repeat(21 * 1024 * 1024) } }) + "\n",
    });
    assert.equal(tooLong.status, 413);
    assert.match((await tooLong.json()).details, /line 1 is longer than 20971520 bytes/);
    const missing = await fetch(`${server.url}/api/nd/document/huge`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
  });
});

Deno.test("big bodies: whole bodies read at once are bounded by max_body_size_mb × max_concurrent_bodies", async () => {
  await withServer({
    CAMEODB_NETWORK_HTTP_MAX_BODY_SIZE_MB: "2",
    CAMEODB_NETWORK_HTTP_MAX_CONCURRENT_BODIES: "2",
  }, async (server) => {
    const length = 1_500_000;
    const head =
      "PUT /api/big/document HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
      `content-length: ${length}\r\n\r\n`;
    // Two clients start 1.5 MB bodies and hold them: 3 MB of the 4 MB budget.
    const held = await Promise.all([0, 1].map(() => rawConnection(server.port)));
    await Promise.all(held.map((conn) => conn.send(head + '{"id": "x", "doc": {"t": "')));
    // A third whole body does not fit: 503 at once, before any of it is read.
    const third = await fetch(`${server.url}/api/big/document`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "third", doc: { t: "y".repeat(length - 40) } }),
    });
    assert.equal(third.status, 503);
    assert.match((await third.json()).details, /request bodies being read add up to more than/);
    // Small requests are not held back by it.
    const small = await fetch(`${server.url}/api/big/document`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "small", doc: { t: "s" } }),
    });
    assert.equal(small.status, 200);
    await small.body?.cancel();
    for (const conn of held) conn.close();
  });
});
