import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import type { Message } from "../actors/types.ts";
import { PeerRefusedError } from "./errors.ts";
import { COORDINATOR, exposeActors } from "./exposure.ts";
import type { Exposed } from "./remote_host.ts";

type Msg = { type: "hello"; peer?: string } | { type: "health"; peer?: string };
type Replies = { hello: string | undefined; health: string | undefined };

Deno.test("exposure: the node service only for admitted peers; the coordinator takes hello stamped with the connection's peer", async () => {
  const system = new ActorSystem({ node: "n1" });
  try {
    // Replies with the peer the message arrived stamped with.
    const echo = system.spawn<Msg, Replies>(() => ({ receive: (msg) => msg.peer }), {
      name: "echo",
    });
    const exposed: Exposed = { ref: echo as unknown as Exposed["ref"], mailboxCapacity: 8 };
    const actors = exposeActors({
      serviceName: "node",
      service: exposed,
      coordinator: () => exposed,
      isAdmitted: (peer) => peer === "member",
    });
    assert.equal(actors("node", "member"), exposed);
    assert.throws(() => actors("node", "stranger"), PeerRefusedError);
    assert.equal(actors("nothing", "member"), undefined);
    const coordinator = actors(COORDINATOR, "stranger")!;
    const claimed = { type: "hello", peer: "member" } as Message;
    assert.equal(await coordinator.ref.ask(claimed), "stranger", "the claimed peer is overwritten");
    await assert.rejects(coordinator.ref.ask({ type: "health" }), PeerRefusedError);
    await assert.rejects(coordinator.ref.stop(), PeerRefusedError);
    assert.equal(await echo.ask({ type: "health" }), undefined, "the actor still runs");
  } finally {
    await system.shutdown();
  }
});
