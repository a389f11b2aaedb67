import assert from "node:assert/strict";
import { HintStore } from "./hints.ts";
import type { WriteCommand } from "../node/write_command.ts";

function copy(i: number): WriteCommand {
  return { op: "put", index: "books", id: `d${i}`, doc: { n: i }, stamp: `s${i}`, version: 1 };
}

Deno.test("HintStore: hints survive a reopen and replay in order, once, then are gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-hints-" });
  try {
    const store = await HintStore.open(dir);
    await store.add("b", [copy(1), copy(2)]);
    await store.add("b", [copy(3)]);
    assert.equal(store.has("b"), true);
    assert.equal(store.has("c"), false);
    const reopened = await HintStore.open(dir);
    assert.equal(reopened.counters.hints_pending, 3);
    const sent: string[] = [];
    const replayed = await reopened.replay("b", (node, copies) => {
      assert.equal(node, "b");
      sent.push(...copies.map((c) => c.id));
      return Promise.resolve();
    });
    assert.equal(replayed, 3);
    assert.deepEqual(sent, ["d1", "d2", "d3"]);
    assert.equal(reopened.has("b"), false);
    assert.equal((await HintStore.open(dir)).counters.hints_pending, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HintStore: a replay that fails keeps every hint for the next one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-hints-" });
  try {
    const store = await HintStore.open(dir);
    await store.add("b", [copy(1)]);
    await assert.rejects(store.replay("b", () => Promise.reject(new Error("down again"))));
    assert.equal(store.has("b"), true);
    let sent = 0;
    await store.replay("b", (_node, copies) => {
      sent += copies.length;
      return Promise.resolve();
    });
    assert.equal(sent, 1);
    assert.equal(store.counters.hints_replayed, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HintStore: hints over maxHintsPerNode or maxHintBytes are dropped and counted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-hints-" });
  try {
    const store = await HintStore.open(dir, { maxHintsPerNode: 2 });
    await store.add("b", [copy(1), copy(2), copy(3)]);
    assert.deepEqual(
      [store.counters.hints_stored, store.counters.hints_dropped, store.counters.hints_pending],
      [2, 1, 2],
    );
    const tiny = await HintStore.open(`${dir}/tiny`, { maxHintBytes: 10 });
    await tiny.add("b", [copy(1)]);
    assert.equal(tiny.has("b"), false);
    assert.equal(tiny.counters.hints_dropped, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HintStore: hints added while a replay runs are sent right after it, not left for the next reconnection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-hints-" });
  try {
    const store = await HintStore.open(dir);
    await store.add("b", [copy(1)]);
    const gate = Promise.withResolvers<void>();
    const sent: string[] = [];
    const first = store.replay("b", async (_node, copies) => {
      await gate.promise;
      sent.push(...copies.map((c) => c.id));
    });
    const added = store.add("b", [copy(2)]);
    gate.resolve();
    assert.equal(await first, 2);
    await added;
    assert.deepEqual(sent, ["d1", "d2"]);
    assert.equal(store.has("b"), false);
    assert.equal(store.counters.hints_pending, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
