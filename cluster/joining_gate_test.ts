import assert from "node:assert/strict";
import { JOINING_RETRY_AFTER_SECS, joiningGate } from "./joining_gate.ts";

Deno.test("joining gate: data requests get 503 with Retry-After while joining; /_ endpoints pass", async () => {
  let joining = true;
  const handler = joiningGate(() => Promise.resolve(new Response("served")), () => joining);
  const refused = await handler(new Request("http://x/api/books/document/1"));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("Retry-After"), String(JOINING_RETRY_AFTER_SECS));
  assert.match((await refused.json()).details, /joining the cluster/);
  const health = await handler(new Request("http://x/_cluster/health"));
  assert.equal(await health.text(), "served");
  joining = false;
  assert.equal(
    await (await handler(new Request("http://x/api/books/document/1"))).text(),
    "served",
  );
});
