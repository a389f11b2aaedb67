import assert from "node:assert/strict";
import { hold, runActorRefConformance } from "./actor_ref_conformance.ts";
import type { ConformanceMsg, ConformanceReplies } from "./_conformance_actor.ts";
import { ActorCrashedError, type EscalatedFailureError } from "./errors.ts";
import { ActorSystem } from "./system.ts";
import type { WorkerSpawnOptions } from "./worker_ref.ts";

const ACTOR_MODULE = new URL("./_conformance_actor.ts", import.meta.url);

function workerHarness() {
  const escalations: Array<(error: EscalatedFailureError) => void> = [];
  const system = new ActorSystem({
    node: "test",
    onEscalation: (error) => escalations.shift()?.(error),
  });
  return {
    system,
    spawn(options: WorkerSpawnOptions = {}) {
      return system.spawnWorker<ConformanceMsg, ConformanceReplies>(ACTOR_MODULE, options);
    },
    nextEscalation() {
      return new Promise<EscalatedFailureError>((resolve) => escalations.push(resolve));
    },
    close: () => system.shutdown(),
  };
}

runActorRefConformance("worker", workerHarness);

Deno.test("worker ref: a dying worker fails its asks at once and is restarted", async () => {
  const h = workerHarness();
  try {
    const ref = await h.spawn();
    const before = await ref.ask({ type: "identity" });
    const held = await hold(ref, { crashWorker: true });
    const started = performance.now();
    await assert.rejects(held.reply, ActorCrashedError);
    const elapsed = performance.now() - started;
    // The ask's own timeout is 30 s: failing well before it means the crash failed it.
    assert.ok(elapsed < 10_000, `the ask failed after ${elapsed} ms, not at once`);
    const after = await ref.ask({ type: "identity" }, { timeoutMs: 10_000 });
    assert.notEqual(after.instance, before.instance);
  } finally {
    await h.close();
  }
});

Deno.test("worker ref: messages sent while the worker restarts reach the new worker", async () => {
  const h = workerHarness();
  try {
    const ref = await h.spawn({
      supervision: { backoff: { initialMs: 200, maxMs: 200, factor: 1 } },
    });
    const held = await hold(ref, { crashWorker: true });
    await assert.rejects(held.reply, ActorCrashedError);
    ref.tell({ type: "append", value: 5 });
    assert.deepEqual(await ref.ask({ type: "log" }, { timeoutMs: 10_000 }), [5]);
  } finally {
    await h.close();
  }
});

Deno.test("worker ref: spawnWorker rejects a module without the factory", async () => {
  const h = workerHarness();
  try {
    await assert.rejects(
      h.spawn({ exportName: "noSuchExport" }),
      /does not export a function "noSuchExport"/,
    );
    assert.deepEqual(h.system.registry.names(), []);
  } finally {
    await h.close();
  }
});

Deno.test("worker ref: a busy handler does not block the main isolate", async () => {
  const h = workerHarness();
  try {
    const ref = await h.spawn();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    // 200 ticks of 5 ms fit in the spin; 10 are asked for, so a loaded machine still passes
    // and a blocked isolate (no tick until the spin ends) still fails.
    const spins = await ref.ask({ type: "spin", ms: 1_000 });
    clearInterval(timer);
    assert.ok(spins > 0);
    assert.ok(ticks >= 10, `the main isolate ticked only ${ticks} times in 1,000 ms`);
  } finally {
    await h.close();
  }
});
