import assert from "node:assert/strict";
import { createHandler } from "./handler.ts";
import { HttpMetrics } from "./metrics.ts";

Deno.test("metrics: requests are counted by method and status, timed, and rendered with the node's samples", async () => {
  const metrics = new HttpMetrics();
  const handler = metrics.wrap(createHandler({
    health: () => ({
      status: "green",
      node_id: "n",
      node_name: "n",
      cluster_name: "c",
      cluster_enabled: false,
      total_nodes: 1,
      connected_nodes: 1,
      active_shards: 1,
      total_indexes: 0,
    }),
    metrics: () =>
      Promise.resolve(metrics.render([
        {
          name: "cameodb_documents",
          help: "Documents.",
          type: "gauge",
          value: 7,
          labels: { index: 'a"b' },
        },
      ])),
  }));
  for (let i = 0; i < 3; i++) {
    await (await handler(new Request("http://db/_cluster/health"))).body?.cancel();
  }
  await (await handler(new Request("http://db/nope"))).body?.cancel();
  const response = await handler(new Request("http://db/_metrics"));
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^cameodb_http_requests_total\{method="GET",status="200"\} 3$/m);
  assert.match(text, /^cameodb_http_requests_total\{method="GET",status="404"\} 1$/m);
  assert.match(text, /^cameodb_http_request_duration_seconds_count 4$/m);
  assert.match(text, /^cameodb_http_request_duration_seconds_bucket\{le="\+Inf"\} 4$/m);
  assert.match(text, /^# TYPE cameodb_documents gauge$/m);
  assert.match(text, /^cameodb_documents\{index="a_b"\} 7$/m);
  // Buckets are cumulative.
  const buckets = [...text.matchAll(/_bucket\{le="[^"]+"\} (\d+)/g)].map((m) => Number(m[1]));
  assert.ok(buckets.length > 1, `only ${buckets.length} buckets rendered`);
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b));
});
