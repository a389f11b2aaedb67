import assert from "node:assert/strict";
import { NodeUnavailableError } from "./errors.ts";
import type { MemberState } from "./failure_detector.ts";
import { NodeBreaker } from "./node_breaker.ts";
import { HashRing } from "./ring.ts";
import type { ClusterView, NodeInfo } from "./view.ts";

function view(state: MemberState): ClusterView {
  const info = (id: string): NodeInfo => ({
    nodeId: id,
    name: id,
    clusterName: "c",
    peerId: `p-${id}`,
    addrs: [],
    http: "",
    shardCount: 1,
  });
  return {
    self: "a",
    members: new Map([
      ["a", { info: info("a"), connected: true, state: "up" }],
      ["b", { info: info("b"), connected: true, state }],
    ]),
    ring: new HashRing(["a", "b"]),
  };
}

Deno.test("breaker: a suspect or down node is refused at once, naming it", () => {
  const breaker = new NodeBreaker();
  for (const state of ["suspect", "down"] as const) {
    assert.throws(() => breaker.enter(view(state), "b"), (error: unknown) => {
      assert.ok(error instanceof NodeUnavailableError);
      assert.match(error.message, new RegExp(`Node b \\(b\\) is unavailable: it is ${state}`));
      return true;
    });
  }
  assert.equal(breaker.stats.refused_unhealthy, 2);
});

Deno.test("breaker: past the cap of calls in flight to one node, calls fail; released ones free room", () => {
  const breaker = new NodeBreaker({ maxInFlightPerNode: 2 });
  const up = view("up");
  const first = breaker.enter(up, "b");
  breaker.enter(up, "b");
  assert.throws(() => breaker.enter(up, "b"), NodeUnavailableError);
  assert.equal(breaker.stats.refused_in_flight, 1);
  breaker.enter(up, "a")();
  first();
  first();
  assert.equal(breaker.inFlight("b"), 1, "a release counts once");
  breaker.enter(up, "b");
  assert.equal(breaker.inFlight("b"), 2);
});
