import assert from "node:assert/strict";
import { withLimits } from "./limits.ts";

function gated() {
  const gate = Promise.withResolvers<void>();
  const entered: Array<() => void> = [];
  const handler = async (_request: Request) => {
    entered.shift()?.();
    await gate.promise;
    return new Response("ok");
  };
  const nextEntry = () => new Promise<void>((resolve) => entered.push(resolve));
  return { handler, release: () => gate.resolve(), nextEntry };
}

Deno.test("limits: requests past the concurrency bound get 503 with Retry-After", async () => {
  const { handler, release, nextEntry } = gated();
  const limited = withLimits(handler, {
    maxConcurrentRequests: 1,
    requestTimeoutMs: 10_000,
    corsAllowedOrigins: [],
  });
  const entered = nextEntry();
  const first = limited(new Request("http://db/a"));
  await entered;
  const second = await limited(new Request("http://db/b"));
  assert.equal(second.status, 503);
  assert.equal(second.headers.get("retry-after"), "1");
  assert.match((await second.json()).details, /more than 1 requests at once/);
  release();
  assert.equal((await first).status, 200);
  assert.equal((await limited(new Request("http://db/c"))).status, 200, "the slot was freed");
});

Deno.test("limits: a request running past the timeout gets 408", async () => {
  const { handler, release } = gated();
  const limited = withLimits(handler, {
    maxConcurrentRequests: 10,
    requestTimeoutMs: 50,
    corsAllowedOrigins: [],
  });
  const response = await limited(new Request("http://db/slow"));
  assert.equal(response.status, 408);
  assert.equal((await response.json()).error, "Request timeout");
  release();
});

Deno.test("limits: CORS for allowed origins only, with preflight", async () => {
  const ok = () => Promise.resolve(new Response("ok"));
  const limited = withLimits(ok, {
    maxConcurrentRequests: 10,
    requestTimeoutMs: 1_000,
    corsAllowedOrigins: ["https://app.example"],
  });
  const allowed = await limited(
    new Request("http://db/x", { headers: { origin: "https://app.example" } }),
  );
  assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await limited(
    new Request("http://db/x", { headers: { origin: "https://evil.example" } }),
  );
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const preflight = await limited(
    new Request("http://db/x", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    }),
  );
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
});

Deno.test("limits: data requests leave the reserved share to health and small reads", async () => {
  const { handler, release, nextEntry } = gated();
  const limited = withLimits(handler, {
    maxConcurrentRequests: 4,
    reservedConcurrentRequests: 2,
    requestTimeoutMs: 10_000,
    corsAllowedOrigins: [],
  });
  const post = () => new Request("http://db/api/x/search", { method: "POST", body: "{}" });
  const running = [];
  for (let i = 0; i < 2; i++) {
    const entered = nextEntry();
    running.push(limited(post()));
    await entered;
  }
  const third = await limited(post());
  assert.equal(third.status, 503);
  assert.match((await third.json()).details, /more than 2 data requests at once \(2 are kept/);
  const entered = nextEntry();
  const health = limited(new Request("http://db/_cluster/health"));
  await entered;
  release();
  assert.equal((await health).status, 200);
  for (const response of await Promise.all(running)) await response.body?.cancel();
});

Deno.test("limits: one client address runs at most maxRequestsPerClient; health is not counted", async () => {
  const { handler, release, nextEntry } = gated();
  const limited = withLimits(handler, {
    maxConcurrentRequests: 100,
    maxRequestsPerClient: 1,
    requestTimeoutMs: 10_000,
    corsAllowedOrigins: [],
  });
  const client = (hostname: string) => ({
    remoteAddr: { transport: "tcp" as const, hostname, port: 1 },
  });
  const entered = nextEntry();
  const first = limited(new Request("http://db/api/x/document/a"), client("10.0.0.1"));
  await entered;
  const second = await limited(new Request("http://db/api/x/document/b"), client("10.0.0.1"));
  assert.equal(second.status, 503);
  assert.match((await second.json()).details, /more than 1 requests at once from 10\.0\.0\.1/);
  const others = [
    limited(new Request("http://db/api/x/document/c"), client("10.0.0.2")),
    limited(new Request("http://db/_cluster/health"), client("10.0.0.1")),
  ];
  release();
  for (const response of [await first, ...await Promise.all(others)]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
});

Deno.test("limits: a request without a framed body is not counted against the body budget", async () => {
  const { handler, release, nextEntry } = gated();
  const limited = withLimits(handler, {
    maxConcurrentRequests: 100,
    maxBodyBytes: 1_000,
    maxBufferedBodyBytes: 1_000,
    requestTimeoutMs: 10_000,
    corsAllowedOrigins: [],
  });
  const bodied = () =>
    new Request("http://db/api/x/document", {
      method: "PUT",
      body: "x".repeat(600),
      headers: { "content-length": "600" },
    });
  const entered = nextEntry();
  const first = limited(bodied());
  await entered;
  const over = await limited(bodied());
  assert.equal(over.status, 503);
  assert.match((await over.json()).details, /request bodies being read add up to more than 1000/);
  // A DELETE with an empty body stream and no length: no body, so not refused.
  const deleting = limited(
    new Request("http://db/api/x/document/a", { method: "DELETE", body: "" }),
  );
  release();
  for (const response of [await first, await deleting]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
});
