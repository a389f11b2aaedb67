/**
 * The one conformance suite every {@linkcode ActorRef} implementation passes: local refs,
 * worker refs, and (with the cluster) remote refs. Each implementation's test file calls
 * {@linkcode runActorRefConformance} with a harness that spawns the conformance actor.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ActorNotFoundError,
  ActorStoppedError,
  AskTimeoutError,
  type EscalatedFailureError,
  MailboxFullError,
} from "./errors.ts";
import type { ActorRef, Supervision } from "./types.ts";
import {
  type ConformanceMsg,
  type ConformanceReplies,
  GATE_ENTERED,
  GATE_RELEASE,
} from "./_conformance_actor.ts";
import { withDeadline } from "../testing/deadline.ts";

/** A ref to the conformance actor. */
export type ConformanceRef = ActorRef<ConformanceMsg, ConformanceReplies>;

/** What the suite asks of an implementation. */
export interface ConformanceHarness {
  /** Spawns the conformance actor. */
  spawn(options?: {
    mailboxCapacity?: number;
    supervision?: Partial<Supervision>;
    stopTimeoutMs?: number;
  }): Promise<ConformanceRef>;
  /** Resolves with the next failure escalated past the spawned actors. */
  nextEscalation(): Promise<EscalatedFailureError>;
  /** Stops everything the harness started. */
  close(): Promise<void>;
}

const WAIT_MS = 10_000;

/** A handler held inside the actor until `release()`. */
interface Held {
  readonly reply: Promise<"released">;
  release(): void;
}

/** Asks the actor to wait on a gate and resolves once its handler is waiting. */
export async function hold(
  ref: ConformanceRef,
  options: { crashWorker?: boolean; detached?: { fail?: string } } = {},
) {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const reply = options.detached !== undefined
    ? ref.ask({ type: "waitDetached", gate, ...options.detached }, { timeoutMs: 30_000 })
    : ref.ask(
      options.crashWorker === true
        ? { type: "wait", gate, crashWorker: true }
        : { type: "wait", gate },
      { timeoutMs: 30_000 },
    );
  reply.catch(() => {});
  const entered = Atomics.waitAsync(gate, GATE_ENTERED, 0, WAIT_MS);
  if (entered.async) await entered.value;
  assert.equal(Atomics.load(gate, GATE_ENTERED), 1, "the handler never started waiting");
  return {
    reply,
    release() {
      Atomics.store(gate, GATE_RELEASE, 1);
      Atomics.notify(gate, GATE_RELEASE);
    },
  } satisfies Held;
}

/** Registers the conformance tests for one implementation. */
export function runActorRefConformance(
  kind: string,
  makeHarness: () => ConformanceHarness,
): void {
  function test(name: string, fn: (harness: ConformanceHarness) => Promise<void>) {
    Deno.test(`${kind} ref: ${name}`, async () => {
      const harness = makeHarness();
      try {
        await fn(harness);
      } finally {
        await harness.close();
      }
    });
  }

  test("ask() resolves with the handler's reply", async (h) => {
    const ref = await h.spawn();
    const value = { title: "Rust", tags: ["a", "b"], year: 2024 };
    assert.deepEqual(await ref.ask({ type: "echo", value }), value);
  });

  test("messages are handled one at a time in arrival order", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref);
    for (let i = 0; i < 50; i++) ref.tell({ type: "append", value: i });
    const log = ref.ask({ type: "log" });
    // Nothing behind the held handler runs until it is released.
    await assert.rejects(ref.ask({ type: "log" }, { timeoutMs: 50 }), AskTimeoutError);
    held.release();
    assert.equal(await held.reply, "released");
    assert.deepEqual(await log, Array.from({ length: 50 }, (_, i) => i));
  });

  test("a detached reply frees the actor for the next message; the ask settles later", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref, { detached: {} });
    for (let i = 0; i < 3; i++) ref.tell({ type: "append", value: i });
    // The handler returned at once: the messages behind it run while the work waits.
    assert.deepEqual(await ref.ask({ type: "log" }, { timeoutMs: WAIT_MS }), [0, 1, 2]);
    let settled = false;
    held.reply.then(() => (settled = true), () => (settled = true));
    await ref.ask({ type: "echo", value: 1 });
    assert.equal(settled, false, "the detached ask settled before its work did");
    held.release();
    assert.equal(await held.reply, "released");
  });

  test("a detached failure reaches the asker by name; the actor goes on", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref, { detached: { fail: "ShardBusyError" } });
    held.release();
    await assert.rejects(held.reply, (error: Error) => error.name === "ShardBusyError");
    const before = (await ref.ask({ type: "identity" })).instance;
    assert.equal(await ref.ask({ type: "echo", value: "still here" }), "still here");
    assert.equal((await ref.ask({ type: "identity" })).instance, before, "the actor restarted");
  });

  test("stop() waits for detached work within the stop timeout and settles its ask", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref, { detached: {} });
    const stopping = ref.stop();
    held.release();
    await stopping;
    // Released before the timeout: the work finished and answered.
    assert.equal(await held.reply, "released");
  });

  test("tell() throws MailboxFullError carrying the message when the mailbox is full", async (h) => {
    const ref = await h.spawn({ mailboxCapacity: 3 });
    const held = await hold(ref);
    for (let i = 0; i < 3; i++) ref.tell({ type: "append", value: i });
    const undelivered = { type: "append", value: 99 } as const;
    try {
      ref.tell(undelivered);
      assert.fail("tell() into a full mailbox did not throw");
    } catch (caught) {
      assert.ok(caught instanceof MailboxFullError);
      assert.deepEqual(caught.undelivered, undelivered);
    }
    held.release();
    assert.deepEqual(await ref.ask({ type: "log" }), [0, 1, 2]);
  });

  test("ask() waits for room in a full mailbox, then is delivered in order", async (h) => {
    const ref = await h.spawn({ mailboxCapacity: 1 });
    const held = await hold(ref);
    ref.tell({ type: "append", value: 1 });
    const waiting = ref.ask({ type: "append", value: 2 }, { timeoutMs: WAIT_MS });
    assert.throws(() => ref.tell({ type: "append", value: 3 }), MailboxFullError);
    held.release();
    await waiting;
    assert.deepEqual(await ref.ask({ type: "log" }), [1, 2]);
  });

  test("ask() rejects with AskTimeoutError after timeoutMs", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref);
    const started = performance.now();
    await assert.rejects(ref.ask({ type: "echo", value: 1 }, { timeoutMs: 100 }), AskTimeoutError);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95, `rejected after ${elapsed} ms, before the timeout`);
    held.release();
    assert.equal(await ref.ask({ type: "echo", value: 2 }), 2);
  });

  test("an error thrown by the handler reaches the asker with its name and message", async (h) => {
    const ref = await h.spawn();
    ref.tell({ type: "append", value: 7 });
    await assert.rejects(
      ref.ask({ type: "throw", name: "ValidationError", message: 'field "year" expects i64' }),
      (error: Error) => {
        assert.equal(error.name, "ValidationError");
        assert.equal(error.message, 'field "year" expects i64');
        return true;
      },
    );
    // The actor resumed with its state.
    assert.deepEqual(await ref.ask({ type: "log" }), [7]);
  });

  test("runtime errors keep their class when they reach the asker", async (h) => {
    const ref = await h.spawn();
    await assert.rejects(
      ref.ask({ type: "throw", name: "ActorNotFoundError", message: "books" }),
      (error: Error) => error instanceof ActorNotFoundError && /"books"/.test(error.message),
    );
  });

  test("stop() settles every pending ask; later messages fail at once", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref);
    const queued = [1, 2, 3].map((value) =>
      ref.ask({ type: "echo", value }, { timeoutMs: WAIT_MS })
    );
    const stopping = ref.stop();
    // All observed at once: awaited one by one, a later ask could reject (a frame from a
    // remote node, in its own turn) while an earlier one is awaited, unhandled.
    await Promise.all(queued.map((ask) => assert.rejects(ask, ActorStoppedError)));
    held.release();
    assert.equal(await held.reply, "released");
    await withDeadline(stopping, WAIT_MS, "stop()");
    const started = performance.now();
    await assert.rejects(
      ref.ask({ type: "echo", value: 4 }, { timeoutMs: WAIT_MS }),
      ActorStoppedError,
    );
    assert.ok(performance.now() - started < 1_000, "ask on a stopped actor did not fail at once");
    assert.throws(() => ref.tell({ type: "append", value: 5 }), ActorStoppedError);
  });

  test("stop() settles an ask whose handler outlives the stop timeout", async (h) => {
    const ref = await h.spawn({ stopTimeoutMs: 200 });
    const held = await hold(ref);
    await withDeadline(ref.stop(), WAIT_MS, "stop()");
    await assert.rejects(held.reply, ActorStoppedError);
    held.release();
  });

  test("onStart runs before the first message", async (h) => {
    const ref = await h.spawn();
    assert.equal((await ref.ask({ type: "identity" })).started, true);
  });

  test("a failed handler restarts the actor from its factory", async (h) => {
    const ref = await h.spawn();
    const before = await ref.ask({ type: "identity" });
    ref.tell({ type: "append", value: 1 });
    await assert.rejects(ref.ask({ type: "crash", message: "state corrupted" }), /state corrupted/);
    const after = await ref.ask({ type: "identity" });
    assert.notEqual(after.instance, before.instance);
    assert.equal(after.started, true);
    assert.deepEqual(await ref.ask({ type: "log" }), []);
  });

  test("messages queued behind a failure are handled by the restarted actor", async (h) => {
    const ref = await h.spawn();
    const held = await hold(ref);
    const crash = ref.ask({ type: "crash", message: "boom" });
    ref.tell({ type: "append", value: 42 });
    held.release();
    await assert.rejects(crash, /boom/);
    assert.deepEqual(await ref.ask({ type: "log" }), [42]);
  });

  test("past the restart limit the failure escalates and the actor stops", async (h) => {
    const ref = await h.spawn({ supervision: { restartLimit: { count: 1, withinMs: 60_000 } } });
    const escalation = h.nextEscalation();
    await assert.rejects(ref.ask({ type: "crash", message: "first" }));
    assert.equal(await ref.ask({ type: "echo", value: "restarted" }), "restarted");
    await assert.rejects(ref.ask({ type: "crash", message: "second" }));
    const error = await withDeadline(escalation, WAIT_MS, "escalation");
    assert.equal(error.name, "EscalatedFailureError");
    assert.deepEqual(error.child, ref.address);
    assert.match(error.message, /second/);
    await assert.rejects(ref.ask({ type: "echo", value: 1 }), ActorStoppedError);
  });

  test('policy "never" stops on the first failure and escalates', async (h) => {
    const ref = await h.spawn({ supervision: { policy: "never" } });
    const escalation = h.nextEscalation();
    await assert.rejects(ref.ask({ type: "crash", message: "once" }));
    await withDeadline(escalation, WAIT_MS, "escalation");
    await assert.rejects(ref.ask({ type: "echo", value: 1 }), ActorStoppedError);
  });

  test("the backoff delays a restart", async (h) => {
    const ref = await h.spawn({
      supervision: { backoff: { initialMs: 300, maxMs: 1_000, factor: 2 } },
    });
    const started = performance.now();
    await assert.rejects(ref.ask({ type: "crash", message: "x" }));
    assert.equal(await ref.ask({ type: "echo", value: 1 }), 1);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290, `restarted after ${elapsed} ms, before the 300 ms backoff`);
  });

  test("a self-stop restarts a permanent actor and stops a transient one", async (h) => {
    const permanent = await h.spawn({ supervision: { policy: "permanent" } });
    const first = await permanent.ask({ type: "identity" });
    await permanent.ask({ type: "stopSelf" });
    const second = await permanent.ask({ type: "identity" });
    assert.notEqual(second.instance, first.instance);

    const transient = await h.spawn({ supervision: { policy: "transient" } });
    await transient.ask({ type: "stopSelf" });
    await assert.rejects(transient.ask({ type: "identity" }), ActorStoppedError);
  });

  test("the address is plain data", async (h) => {
    const ref = await h.spawn();
    const copy = JSON.parse(JSON.stringify(ref.address));
    assert.deepEqual(copy, ref.address);
    assert.equal(typeof ref.address.node, "string");
    assert.equal(typeof ref.address.name, "string");
  });
}
