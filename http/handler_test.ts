import assert from "node:assert/strict";
import { createHandler, type Health } from "./handler.ts";

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
const handler = createHandler({ health: () => health }, { log: () => {} });

Deno.test("http: GET /_cluster/health answers the node's health", async () => {
  const response = await handler(new Request("http://db/_cluster/health"));
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(await response.json(), health);
});

Deno.test("http: an unknown route is a 404 in the error shape", async () => {
  const response = await handler(new Request("http://db/nowhere"));
  assert.equal(response.status, 404);
  const body = await response.json();
  assert.equal(body.error, "Not found");
  assert.match(body.details, /GET \/nowhere/);
});

Deno.test("http: a known route under another method is a 405 with Allow", async () => {
  const response = await handler(new Request("http://db/_cluster/health", { method: "DELETE" }));
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET");
  assert.equal((await response.json()).error, "Method not allowed");
});

Deno.test("http: an unexpected error is a 500 that masks its text", async () => {
  const logged: unknown[] = [];
  const failing = createHandler({
    health: () => {
      throw new Error("secret internals at /var/lib/x");
    },
  }, { log: (error) => logged.push(error) });
  const response = await failing(new Request("http://db/_cluster/health"));
  assert.equal(response.status, 500);
  const text = await response.text();
  assert.doesNotMatch(text, /secret/);
  assert.equal(logged.length, 1);
});
