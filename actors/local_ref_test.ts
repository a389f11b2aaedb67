import assert from "node:assert/strict";
import { runActorRefConformance } from "./actor_ref_conformance.ts";
import { createActor } from "./_conformance_actor.ts";
import type { EscalatedFailureError } from "./errors.ts";
import { ActorSystem } from "./system.ts";
import type { ConformanceMsg, ConformanceReplies } from "./_conformance_actor.ts";
import type { ActorRef, Message } from "./types.ts";
import { waitUntil } from "../testing/wait.ts";

function localHarness() {
  const escalations: Array<(error: EscalatedFailureError) => void> = [];
  const system = new ActorSystem({
    node: "test",
    onEscalation: (error) => escalations.shift()?.(error),
  });
  return {
    spawn(options: Parameters<typeof system.spawn>[1] = {}) {
      return Promise.resolve(
        system.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), options),
      );
    },
    nextEscalation() {
      return new Promise<EscalatedFailureError>((resolve) => escalations.push(resolve));
    },
    close: () => system.shutdown(),
  };
}

runActorRefConformance("local", localHarness);

Deno.test("local ref: onStop runs when the actor stops", async () => {
  const system = new ActorSystem();
  let stops = 0;
  const ref = system.spawn(() => createActor({ onStop: () => stops++ }));
  await ref.ask({ type: "echo", value: 1 });
  await ref.stop();
  assert.equal(stops, 1);
  await system.shutdown();
});

Deno.test("local ref: children stop with their parent and restart with it", async () => {
  const system = new ActorSystem();
  type ParentMsg = { type: "child" };
  type ParentReplies = { child: ActorRef<ConformanceMsg, ConformanceReplies> };
  let child: ActorRef<ConformanceMsg, ConformanceReplies> | undefined;
  const parent = system.spawn<ParentMsg, ParentReplies>(() => ({
    onStart(ctx) {
      child = ctx.children.spawn<ConformanceMsg, ConformanceReplies>(() => createActor());
    },
    receive() {
      return child!;
    },
  }));
  const firstChild = await parent.ask({ type: "child" });
  assert.equal(await firstChild.ask({ type: "echo", value: "alive" }), "alive");
  await parent.stop();
  assert.throws(() => firstChild.tell({ type: "append", value: 1 }), { name: "ActorStoppedError" });
  await system.shutdown();
});

Deno.test("local ref: a child past its restart limit fails its parent, which restarts", async () => {
  const system = new ActorSystem();
  type ParentMsg = { type: "child" } | { type: "identity" };
  type ParentReplies = {
    child: ActorRef<ConformanceMsg, ConformanceReplies>;
    identity: string;
  };
  const parent = system.spawn<ParentMsg, ParentReplies>(() => {
    const instance = crypto.randomUUID();
    let child: ActorRef<ConformanceMsg, ConformanceReplies> | undefined;
    return {
      onStart(ctx) {
        child = ctx.children.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), {
          supervision: { policy: "never" },
        });
      },
      receive(msg) {
        return msg.type === "child" ? child! : instance;
      },
    };
  });
  const before = await parent.ask({ type: "identity" });
  const child = await parent.ask({ type: "child" });
  await assert.rejects(child.ask({ type: "crash", message: "child broke" }));
  // The parent restarts (the escalation reaches it after the child's reply): a new
  // instance with a new child.
  await waitUntil(
    async () => (await parent.ask({ type: "identity" })) !== before,
    10_000,
    "the parent restarted",
  );
  const newChild = await parent.ask({ type: "child" });
  assert.notDeepEqual(newChild.address, child.address);
  assert.equal(await newChild.ask({ type: "echo", value: 1 }), 1);
  await system.shutdown();
});

Deno.test("registry: names resolve to refs, duplicates are rejected, stopped actors leave", async () => {
  const system = new ActorSystem({ node: "n1" });
  const ref = system.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), {
    name: "books",
  });
  assert.equal(system.lookup("books"), ref);
  assert.equal(system.refFor({ node: "n1", name: "books" }), ref);
  assert.throws(() => system.spawn(() => createActor(), { name: "books" }), {
    name: "DuplicateActorNameError",
  });
  assert.throws(() => system.refFor({ node: "n2", name: "books" }), { name: "ActorNotFoundError" });
  await ref.stop();
  assert.equal(system.lookup<Message, Record<string, unknown>>("books"), undefined);
  await system.shutdown();
});
