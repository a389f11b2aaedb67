import assert from "node:assert/strict";
import { connect } from "./connect.ts";
import { runDatabaseConformance } from "./database_conformance.ts";
import {
  BadRequestError,
  ConnectionError,
  errorFromAnswer,
  ForbiddenError,
  NotFoundError,
  retryAfterMs,
  ServerError,
  StorageFullError,
  UnauthorizedError,
  UnavailableError,
} from "./errors.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";

let server: ServerProcess | undefined;
let dir: string | undefined;

runDatabaseConformance("connect() over HTTP", {
  async open() {
    dir = await Deno.makeTempDir();
    server = await startServerProcess({ dataDir: `${dir}/data` });
    return connect(server.url);
  },
  async close() {
    await server?.stop();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("errorFromAnswer() rebuilds the closed set by status, keeping error and details", () => {
  const cases: Array<[number, abstract new (...args: never[]) => Error]> = [
    [400, BadRequestError],
    [405, BadRequestError],
    [413, BadRequestError],
    [415, BadRequestError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [503, UnavailableError],
    [507, StorageFullError],
    [500, ServerError],
    [502, ServerError],
  ];
  for (const [status, kind] of cases) {
    const error = errorFromAnswer(status, { error: "Nope", details: "because" });
    assert.ok(error instanceof kind, `${status} → ${error.name}`);
    assert.equal(error.status, status);
    assert.equal(error.details, "because");
    assert.equal(error.message, "Nope: because");
  }
  assert.equal(errorFromAnswer(418, "not an object").message, "HTTP 418");
});

Deno.test("UnavailableError carries Retry-After in milliseconds (seconds or a date)", () => {
  const error = errorFromAnswer(503, { error: "Service unavailable" }, "2");
  assert.ok(error instanceof UnavailableError);
  assert.equal(error.retryAfterMs, 2_000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(retryAfterMs(null), 1_000);
});

Deno.test("connect() sends the API key as a bearer token and rebuilds a 503", async () => {
  const seen: string[] = [];
  const stub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers.get("authorization") ?? "");
    return Response.json({ error: "Service unavailable", details: "busy" }, {
      status: 503,
      headers: { "retry-after": "3" },
    });
  });
  try {
    const db = connect(`http://127.0.0.1:${stub.addr.port}`, { apiKey: "k-123" });
    const error = await db.health().catch((e) => e);
    assert.ok(error instanceof UnavailableError);
    assert.equal(error.retryAfterMs, 3_000);
    assert.deepEqual(seen, ["Bearer k-123"]);
    await db.close();
  } finally {
    await stub.shutdown();
  }
});

Deno.test("connect() to a port nobody listens on rejects with ConnectionError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const db = connect(`http://127.0.0.1:${port}`);
  const error = await db.health().catch((e) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.match(error.message, /Cannot reach http:\/\/127\.0\.0\.1/);
  await db.close();
});

Deno.test("a request with no answer within requestTimeoutMs rejects with ConnectionError", async () => {
  const gate = Promise.withResolvers<void>();
  const stub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await gate.promise;
    return new Response("{}");
  });
  try {
    const db = connect(`http://127.0.0.1:${stub.addr.port}`, { requestTimeoutMs: 100 });
    const error = await db.health().catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(error.message, /No answer within 100 ms/);
    await db.close();
  } finally {
    gate.resolve();
    await stub.shutdown();
  }
});
