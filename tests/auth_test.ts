/**
 * Access control against the real server process, as an attacker and a user would meet it:
 * every route without a key, each action against an index inside and outside a key's pattern
 * (table-driven over the handler's own route list, so a route without an expectation here fails),
 * deleted and expired keys, DNS rebinding, a public bind without a key, and HTTPS.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import type { HttpAnswer } from "../testing/http.ts";
import { waitUntil } from "../testing/wait.ts";
import { handlerRoutes } from "../http/handler.ts";
import type { Database } from "../node/database.ts";
import { type Action, ACTIONS } from "../security/actions.ts";
import { KeyStore } from "../security/key_store.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const MASTER = "test-master-key-0123456789";
const MASTER_ENV = { CAMEODB_SECURITY_MASTER_KEY: MASTER };

/** What each route needs, written here independently of the server's rule table. */
type Needs =
  | { open: true }
  | { public: true }
  /** `alone`: the route's answer on a node without a cluster, once access is granted. */
  | { any: Action[]; index: boolean; alone?: number }
  | { listing: true };

const EXPECTED: Record<string, Needs> = {
  "GET /_cluster/health": { open: true },
  "GET /": { public: true },
  "GET /console/:file": { public: true },
  "GET /openapi.json": { public: true },
  "GET /_metrics": { any: ["cluster.manage"], index: false },
  "GET /_cluster/nodes": { any: ["cluster.manage"], index: false },
  "DELETE /_cluster/nodes/:node_id": { any: ["cluster.manage"], index: false, alone: 409 },
  "POST /_cluster/nodes/:node_id/_leave": { any: ["cluster.manage"], index: false, alone: 409 },
  "GET /_indexes": { listing: true },
  "GET /_cluster/_indexes": { listing: true },
  "POST /_keys": { any: ["keys.manage"], index: false },
  "GET /_keys": { any: ["keys.manage"], index: false },
  "GET /_keys/:id": { any: ["keys.manage"], index: false },
  "DELETE /_keys/:id": { any: ["keys.manage"], index: false },
  "PUT /api/:index/_config": { any: ["indexes.manage"], index: true },
  "GET /api/:index/_config": { any: ["indexes.manage", "search"], index: true },
  "DELETE /api/:index": { any: ["indexes.manage"], index: true },
  "PUT /api/:index/document": { any: ["documents.write"], index: true },
  "GET /api/:index/document/:id": { any: ["documents.get"], index: true },
  "DELETE /api/:index/document": { any: ["documents.delete"], index: true },
  "POST /api/:index/_bulk": { any: ["documents.write"], index: true },
  "POST /api/:index/_bulk/delete": { any: ["documents.delete"], index: true },
  "POST /api/:index/search": { any: ["search"], index: true },
  "POST /api/:index/search/stream": { any: ["search"], index: true },
  "POST /api/:index/document/stream": { any: ["documents.write"], index: true },
};

/** What a key with one action should meet on a route, on an index inside its pattern or not. */
function outcome(
  needs: Needs,
  action: Action,
  indexInPattern: boolean,
): "allowed" | "no_action" | "no_index" {
  if ("open" in needs || "public" in needs || "listing" in needs) return "allowed";
  if (action !== "*" && !needs.any.includes(action)) return "no_action";
  return needs.index && !indexInPattern ? "no_index" : "allowed";
}

/** One request that would succeed for a caller with the right. */
interface Sample {
  path: string;
  body?: string;
  contentType?: string;
}

/** Builds a request for a route on `index`; `keyId` is an existing key to read or delete. */
function sampleFor(pattern: string, index: string, keyId: string): Sample {
  const path = pattern.replace(":index", index).replace(":file", "console.js").replace(
    ":id",
    pattern.startsWith("/_keys") ? keyId : "d1",
  );
  const jsonBody = (value: unknown) => ({
    body: JSON.stringify(value),
    contentType: "application/json",
  });
  switch (pattern) {
    case "/_keys":
      // Within the rights of any key allowed to manage keys (a key hands out no more than it has).
      return { path, ...jsonBody({ actions: ["keys.manage"], indexes: ["books"] }) };
    case "/api/:index/_config":
      return { path, ...jsonBody({ fields: [{ name: "title", type: "text" }] }) };
    case "/api/:index/document":
      return { path: `${path}?id=d1`, ...jsonBody({ id: "d1", doc: { title: "dune" } }) };
    case "/api/:index/_bulk":
      return { path, ...jsonBody([{ id: "d2", doc: { title: "hyperion" } }]) };
    case "/api/:index/_bulk/delete":
      return { path, ...jsonBody(["d2"]) };
    case "/api/:index/search":
    case "/api/:index/search/stream":
      return { path, ...jsonBody({ query: "*" }) };
    case "/api/:index/document/stream":
      return {
        path,
        body: '{"id":"d3","doc":{"title":"solaris"}}\n',
        contentType: "application/x-ndjson",
      };
    default:
      return { path };
  }
}

/** The handler's routes (method and pattern), from the same function the server builds them with. */
async function routeList(): Promise<Array<{ method: string; pattern: string }>> {
  const keys = await KeyStore.open(undefined);
  const routes = handlerRoutes(
    { health: () => ({}) as never, database: {} as Database, metrics: () => Promise.resolve("") },
    { keys },
  );
  return routes.map((r) => ({ method: r.method, pattern: r.pattern.pathname }));
}

async function send(
  base: string,
  method: string,
  sample: Sample,
  key?: string,
  init: { client?: Deno.HttpClient } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (sample.contentType !== undefined && method !== "GET" && method !== "DELETE") {
    headers["content-type"] = sample.contentType;
  }
  const response = await fetch(`${base}${sample.path}`, {
    method,
    headers,
    ...(sample.body === undefined || method === "GET" || method === "DELETE"
      ? {}
      : { body: sample.body }),
    ...(init.client === undefined ? {} : { client: init.client }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON (metrics, NDJSON) */ }
  return { status: response.status, body, headers: response.headers };
}

async function createKey(
  base: string,
  request: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const answer = await send(base, "POST", {
    path: "/_keys",
    body: JSON.stringify(request),
    contentType: "application/json",
  }, MASTER);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body as { id: string; key: string };
}

/** Puts a document into `books` and `other` so every sample request has something to act on. */
async function seed(base: string): Promise<void> {
  for (const index of ["books", "other"]) {
    const answer = await send(base, "PUT", {
      path: `/api/${index}/document`,
      body: JSON.stringify({ id: "d1", doc: { title: "dune" } }),
      contentType: "application/json",
    }, MASTER);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
}

Deno.test("auth: every route has an expectation here and a rule in the server", async () => {
  const routes = await routeList();
  const missing = routes.map((r) => `${r.method} ${r.pattern}`).filter((k) => !(k in EXPECTED));
  assert.deepEqual(missing, [], "routes without an expectation in tests/auth_test.ts");
  assert.equal(routes.length, Object.keys(EXPECTED).length, "stale expectations");
});

Deno.test({
  name: "auth: with a master key, every route without a key is 401; health says only its status",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir, env: MASTER_ENV });
    try {
      for (const { method, pattern } of await routeList()) {
        const answer = await send(server.url, method, sampleFor(pattern, "books", "k1"));
        const needs = EXPECTED[`${method} ${pattern}`]!;
        if ("open" in needs) {
          assert.equal(answer.status, 200);
          assert.deepEqual(answer.body, { status: "green" });
          continue;
        }
        if ("public" in needs) {
          // Static files and the API's description: no data, served to anyone.
          assert.equal(answer.status, 200, `${method} ${pattern}`);
          continue;
        }
        assert.equal(answer.status, 401, `${method} ${pattern}`);
        const body = answer.body as { error: string; details: string };
        assert.equal(body.error, "Unauthorized");
        assert.match(body.details, /Authorization: Bearer/);
      }
      for (const key of ["wrong-key", "cdb_" + "A".repeat(43), MASTER + "x"]) {
        assert.equal((await send(server.url, "GET", { path: "/_indexes" }, key)).status, 401);
      }
      const unknown = await send(server.url, "GET", { path: "/nowhere" });
      assert.equal(unknown.status, 401, "no route discovery without a key");
      const basic = await fetch(`${server.url}/_indexes`, {
        headers: { authorization: `Basic ${btoa("a:b")}` },
      });
      assert.equal(basic.status, 401);
      await basic.body?.cancel();
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "auth: each action × an index in and out of the key's pattern is 2xx or 403 as the rules say",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir, env: MASTER_ENV });
    try {
      const routes = await routeList();
      for (const action of ACTIONS) {
        const { key } = await createKey(server.url, { actions: [action], indexes: ["bo*"] });
        for (const { method, pattern } of routes) {
          const needs = EXPECTED[`${method} ${pattern}`]!;
          for (const index of ["books", "other"]) {
            await seed(server.url);
            const victim = await createKey(server.url, { actions: ["search"], indexes: ["x"] });
            const answer = await send(
              server.url,
              method,
              sampleFor(pattern, index, victim.id),
              key,
            );
            const what = `${action} ${method} ${pattern} on ${index}: ${
              JSON.stringify(answer.body)
            }`;
            const expected = outcome(needs, action, index === "books");
            if (expected === "allowed" && "alone" in needs && needs.alone !== undefined) {
              assert.equal(answer.status, needs.alone, what);
            } else if (expected === "allowed") {
              assert.ok(answer.status >= 200 && answer.status < 300, what);
            } else {
              assert.equal(answer.status, 403, what);
              const body = answer.body as { error: string; details: string };
              assert.equal(body.error, "Forbidden");
              assert.match(
                body.details,
                expected === "no_index" ? /does not cover index "other"/ : /lacks the action/,
                what,
              );
            }
          }
        }
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "auth: a key limited to a pattern sees only its indexes in _indexes and _cluster/_indexes",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir, env: MASTER_ENV });
    try {
      await seed(server.url);
      const { key } = await createKey(server.url, { actions: ["search"], indexes: ["books"] });
      for (const path of ["/_indexes", "/_cluster/_indexes"]) {
        const scoped = await send(server.url, "GET", { path }, key);
        assert.equal(scoped.status, 200);
        const body = scoped.body as { indexes: Array<{ name: string }>; total_indexes: number };
        assert.deepEqual(body.indexes.map((i) => i.name), ["books"], path);
        assert.equal(body.total_indexes, 1);
        assert.ok(!JSON.stringify(body).includes("other"), path);
        const all = (await send(server.url, "GET", { path }, MASTER)).body as {
          indexes: Array<{ name: string }>;
        };
        assert.deepEqual(all.indexes.map((i) => i.name).sort(), ["books", "other"]);
      }
      const refused = await send(server.url, "POST", {
        path: "/api/other/search",
        body: '{"query": "*"}',
        contentType: "application/json",
      }, key);
      assert.equal(refused.status, 403);
      assert.ok(!JSON.stringify(refused.body).includes("books"));
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "auth: a deleted or expired key is refused at once; keys survive a restart",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    let server = await startServerProcess({ dataDir, env: MASTER_ENV });
    try {
      const search = {
        path: "/api/books/search",
        body: '{"query":"*"}',
        contentType: "application/json",
      };
      await seed(server.url);
      const doomed = await createKey(server.url, { actions: ["search"], indexes: ["books"] });
      assert.equal((await send(server.url, "POST", search, doomed.key)).status, 200);
      const deleted = await send(server.url, "DELETE", { path: `/_keys/${doomed.id}` }, MASTER);
      assert.equal(deleted.status, 200);
      assert.equal((await send(server.url, "POST", search, doomed.key)).status, 401);
      assert.equal(
        (await send(server.url, "GET", { path: `/_keys/${doomed.id}` }, MASTER)).status,
        404,
      );

      const expiresMs = Date.now() + 1_500;
      const brief = await createKey(server.url, {
        actions: ["search"],
        indexes: ["books"],
        expires_at: new Date(expiresMs).toISOString(),
      });
      assert.equal((await send(server.url, "POST", search, brief.key)).status, 200);
      // Waiting for the clock to pass the expiry is the condition itself.
      await waitUntil(() => Promise.resolve(Date.now() > expiresMs + 10), 5_000, "expiry passes");
      const expired = await send(server.url, "POST", search, brief.key);
      assert.equal(expired.status, 401);
      assert.match((expired.body as { details: string }).details, /expired/);

      const kept = await createKey(server.url, { actions: ["search"], indexes: ["books"] });
      const listed = (await send(server.url, "GET", { path: "/_keys" }, MASTER)).body as {
        keys: Array<Record<string, unknown>>;
      };
      assert.ok(!JSON.stringify(listed).includes(kept.key), "the key is shown only once");
      assert.ok(listed.keys.every((k) => !("hash" in k) && !("key" in k)));
      const file = await Deno.readTextFile(`${dataDir}/keys.json`);
      assert.ok(!file.includes(kept.key), "keys.json holds hashes, not keys");

      await server.stop();
      server = await startServerProcess({ dataDir, env: MASTER_ENV });
      assert.equal((await send(server.url, "POST", search, kept.key)).status, 200);
      assert.equal((await send(server.url, "POST", search, doomed.key)).status, 401);

      const metrics = await send(server.url, "GET", { path: "/_metrics" }, MASTER);
      assert.match(
        String(metrics.body),
        /cameodb_http_auth_refused_total\{status="401",reason="unknown_key"\} 1/,
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "auth: bad key requests are 400 and create nothing",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir, env: MASTER_ENV });
    try {
      const bad: unknown[] = [
        {},
        [],
        "x",
        { actions: [], indexes: ["books"] },
        { actions: ["fly"], indexes: ["books"] },
        { actions: ["search"], indexes: [] },
        { actions: ["search"], indexes: ["../etc"] },
        { actions: ["search"], indexes: ["books"], expires_at: "tomorrow" },
        { actions: ["search"], indexes: ["books"], expires_at: "2001-01-01T00:00:00Z" },
        { actions: ["search"], indexes: ["books"], admin: true },
        { actions: ["search"], indexes: ["books"], description: 7 },
      ];
      for (const body of bad) {
        const answer = await send(server.url, "POST", {
          path: "/_keys",
          body: JSON.stringify(body),
          contentType: "application/json",
        }, MASTER);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal((answer.body as { error: string }).error, "Bad request");
      }
      const notJson = await send(server.url, "POST", {
        path: "/_keys",
        body: "{",
        contentType: "application/json",
      }, MASTER);
      assert.equal(notJson.status, 400);
      const listed = (await send(server.url, "GET", { path: "/_keys" }, MASTER)).body as {
        total_keys: number;
      };
      assert.equal(listed.total_keys, 0);
      // A key that may manage keys cannot hand out more than it holds.
      const manager = await createKey(server.url, {
        actions: ["keys.manage", "search"],
        indexes: ["books"],
      });
      for (
        const wanted of [{ actions: ["*"], indexes: ["books"] }, {
          actions: ["search"],
          indexes: ["*"],
        }]
      ) {
        const escalation = await send(server.url, "POST", {
          path: "/_keys",
          body: JSON.stringify(wanted),
          contentType: "application/json",
        }, manager.key);
        assert.equal(escalation.status, 403, JSON.stringify(wanted));
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

/** Sends a raw HTTP/1.1 request with a chosen `Host` header; resolves with the status. */
async function statusWithHost(port: number, host: string, path = "/_indexes"): Promise<number> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const reader = connection.readable.getReader();
    let text = "";
    while (!text.includes("\r\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return Number(text.split(" ")[1]);
  } finally {
    connection.close();
  }
}

Deno.test({
  name:
    "auth: without a master key, a DNS-rebinding Host is 403 and loopback or allowed Hosts pass",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({
      dataDir,
      env: { CAMEODB_NETWORK_HTTP_ALLOWED_HOSTS: "db.internal" },
    });
    try {
      for (
        const host of ["evil.example", `evil.example:${server.port}`, "127.0.0.2", "localhost.evil"]
      ) {
        assert.equal(await statusWithHost(server.port, host), 403, host);
      }
      for (
        const host of [
          "localhost",
          `localhost:${server.port}`,
          `127.0.0.1:${server.port}`,
          `[::1]:${server.port}`,
          "DB.internal:80",
        ]
      ) {
        assert.equal(await statusWithHost(server.port, host), 200, host);
      }
      const metrics = await (await fetch(`${server.url}/_metrics`)).text();
      assert.match(
        metrics,
        /cameodb_http_auth_refused_total\{status="403",reason="host_not_allowed"\} 4/,
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

async function runMain(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("auth: a non-loopback HTTP bind without a master key, or a short key, exits 2", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const open = await runMain([
      "serve",
      "--http-host",
      "0.0.0.0",
      "--http-port",
      "0",
      "--data-dir",
      dataDir,
    ]);
    assert.equal(open.code, 2);
    const lines = open.stderr.trim().split("\n");
    assert.equal(lines.length, 1, open.stderr);
    assert.match(lines[0]!, /without a master key: set CAMEODB_SECURITY_MASTER_KEY/);
    assert.equal(open.stdout, "", "nothing listened");
    const short = await runMain(["serve", "--http-port", "0", "--data-dir", dataDir], {
      CAMEODB_SECURITY_MASTER_KEY: "short",
    });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /security\.master_key must be at least 16 bytes/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name: "auth: HTTPS with a self-signed certificate, and the client with --ca-file and --api-key",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        // An end-entity certificate (not a CA) that trusts itself: rustls refuses a CA as a leaf.
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const server = await startServerProcess({
      dataDir: `${dir}/data`,
      env: {
        ...MASTER_ENV,
        CAMEODB_NETWORK_HTTP_TLS_CERT_FILE: `${dir}/cert.pem`,
        CAMEODB_NETWORK_HTTP_TLS_KEY_FILE: `${dir}/key.pem`,
      },
    });
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)] });
    try {
      assert.match(server.url, /^https:\/\//);
      const health = await send(server.url, "GET", { path: "/_cluster/health" }, MASTER, {
        client,
      });
      assert.equal(health.status, 200);
      assert.equal((health.body as { status: string }).status, "green");
      await assert.rejects(fetch(`${server.url}/_cluster/health`), "an unknown CA is refused");
      await assert.rejects(fetch(server.url.replace("https", "http") + "/_cluster/health"));

      const created = await runMain([
        "client",
        "--connect",
        server.url,
        "--ca-file",
        `${dir}/cert.pem`,
        "--api-key",
        MASTER,
        "keys",
        "create",
        "--actions",
        "search,documents.write",
        "--indexes",
        "books",
        "--description",
        "loader",
      ]);
      assert.equal(created.code, 0, created.stderr);
      const key = created.stdout.match(/^key\t(\S+)$/m)?.[1];
      assert.ok(key !== undefined, created.stdout);
      const listed = await runMain(
        ["client", "--connect", server.url, "--ca-file", `${dir}/cert.pem`, "keys", "list"],
        { CAMEODB_API_KEY: MASTER },
      );
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /\tsearch,documents\.write\tbooks\tnever\tloader/);
      const noKey = await runMain([
        "client",
        "--connect",
        server.url,
        "--ca-file",
        `${dir}/cert.pem`,
        "list",
        "indexes",
      ]);
      assert.equal(noKey.code, 1);
      assert.match(noKey.stderr, /401 Unauthorized/);
      const scoped = await runMain([
        "client",
        "--connect",
        server.url,
        "--ca-file",
        `${dir}/cert.pem`,
        "--api-key",
        key,
        "search",
        "books",
        "*",
      ]);
      assert.equal(scoped.code, 1, "books does not exist yet");
      assert.match(scoped.stderr, /404/);
      const refused = await runMain([
        "client",
        "--connect",
        server.url,
        "--ca-file",
        `${dir}/cert.pem`,
        "--api-key",
        key,
        "delete",
        "books",
        "--yes",
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /403 Forbidden: the API key lacks the action "indexes.manage"/);
    } finally {
      client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
