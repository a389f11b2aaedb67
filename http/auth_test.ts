import assert from "node:assert/strict";
import { createHandler, type Health } from "./handler.ts";
import { AccessControl, AuthMetrics } from "./auth.ts";
import { route } from "./router.ts";
import { KeyStore } from "../security/key_store.ts";

const health: Health = {
  status: "green",
  node_id: "n1",
  node_name: "laptop",
  cluster_name: "cameodb",
  cluster_enabled: false,
  total_nodes: 1,
  connected_nodes: 1,
  active_shards: 0,
  total_indexes: 0,
};
const MASTER = "master-key-for-unit-tests";

Deno.test("http: refusals are counted by reason and logged without the key", async () => {
  const lines: string[] = [];
  const metrics = new AuthMetrics();
  const keys = await KeyStore.open(undefined);
  const handler = createHandler({ health: () => health, metrics: () => Promise.resolve("") }, {
    log: () => {},
    security: { masterKey: MASTER, keys, allowedHosts: [], metrics, log: (l) => lines.push(l) },
  });
  const { key } = await keys.create({
    description: "",
    actions: ["search"],
    indexes: ["*"],
    expires_at: null,
  });
  const ask = (path: string, token?: string) =>
    handler(
      new Request(`http://localhost${path}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      }),
    );
  assert.equal((await ask("/_metrics")).status, 401);
  assert.equal((await ask("/_metrics", "not-a-key-secret")).status, 401);
  assert.equal((await ask("/_metrics", key)).status, 403);
  assert.equal((await ask("/_metrics", MASTER)).status, 200);
  assert.deepEqual(await (await ask("/_cluster/health")).json(), { status: "green" });
  assert.deepEqual(await (await ask("/_cluster/health", key)).json(), health);
  assert.deepEqual(metrics.samples().map((s) => [s.labels, s.value]), [
    [{ status: "401", reason: "missing_key" }, 1],
    [{ status: "401", reason: "unknown_key" }, 1],
    [{ status: "403", reason: "missing_action" }, 1],
  ]);
  assert.equal(lines.length, 3);
  for (const line of lines) {
    assert.ok(!line.includes(key) && !line.includes("not-a-key-secret") && !line.includes(MASTER));
    assert.match(line, /^refused GET \/_metrics: 40[13] /);
  }
});

Deno.test("http: without a master key only loopback and allowed Host headers are served", async () => {
  const handler = createHandler({ health: () => health }, {
    log: () => {},
    security: {
      masterKey: "",
      keys: await KeyStore.open(undefined),
      allowedHosts: ["db.example"],
    },
  });
  const status = async (host: string) =>
    (await handler(new Request(`http://${host}/_cluster/health`))).status;
  for (const host of ["localhost:9480", "127.0.0.1", "[::1]:1", "db.example", "LOCALHOST"]) {
    assert.equal(await status(host), 200, host);
  }
  for (const host of ["evil.example", "127.0.0.1.evil.example", "db.example.evil", "10.0.0.1"]) {
    assert.equal(await status(host), 403, host);
  }
});

Deno.test("http: a route without a rule is served to the master key only", async () => {
  const keys = await KeyStore.open(undefined);
  const access = new AccessControl({ masterKey: MASTER, keys, allowedHosts: [] });
  const guarded = access.guard(route("GET", "/_new_thing", () => new Response("secret")));
  const { key } = await keys.create({
    description: "",
    actions: ["*"],
    indexes: ["*"],
    expires_at: null,
  });
  const status = async (token: string) => {
    const request = new Request("http://localhost/_new_thing", {
      headers: { authorization: `Bearer ${token}` },
    });
    const refused = access.authenticate(request, false);
    return refused?.status ?? (await guarded.handler(request, {})).status;
  };
  assert.equal(await status(key), 403, "even a key with every action");
  assert.equal(await status(MASTER), 200);
});
