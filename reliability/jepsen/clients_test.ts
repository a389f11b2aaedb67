import assert from "node:assert/strict";
import { describeError, document, outcomeOf, outcomeOfError, tokenOf } from "./clients.ts";

Deno.test("outcomeOf() makes 2xx ok, 4xx fail, the joining gate's 503 fail, other 5xx info", () => {
  assert.equal(outcomeOf(200), "ok");
  assert.equal(outcomeOf(400, "Invalid document id"), "fail");
  assert.equal(outcomeOf(409), "fail");
  assert.equal(
    outcomeOf(
      503,
      "this node is joining the cluster and does not hold its view yet; retry shortly",
    ),
    "fail",
  );
  // The owner may have applied it before the link broke: indeterminate.
  assert.equal(
    outcomeOf(503, "Node n3 (x) is unavailable: it is down (no heartbeat answered lately)"),
    "info",
  );
  assert.equal(outcomeOf(503, 'Actor "node@x" did not reply to "write" within 2000 ms'), "info");
  assert.equal(outcomeOf(507, "database or disk is full"), "info");
  assert.equal(outcomeOf(500), "info");
});

Deno.test("outcomeOfError() makes every request without an answer info, a refused one too", async () => {
  // A port nothing listens on: bind one, note it, close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = await fetch(`http://127.0.0.1:${port}/`).then(() => undefined, (e) => e);
  assert.ok(refused !== undefined, "the connection was refused");
  assert.match(describeError(refused), /Connection refused/);
  assert.equal(outcomeOfError(refused), "info");
  assert.equal(outcomeOfError(new DOMException("Signal timed out.", "TimeoutError")), "info");
});

Deno.test("tokenOf() reads the token of a document, and marks anything else", () => {
  assert.equal(tokenOf({ id: "k1", version: 2, doc: document("k1", "t3-7") }), "t3-7");
  assert.match(tokenOf({ id: "k1", doc: { key: "k1" } }), /^malformed:/);
  assert.deepEqual(document("k1", "t3-7"), { key: "k1", token: "t3-7", n: 7 });
});
