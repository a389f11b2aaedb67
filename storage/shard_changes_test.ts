import assert from "node:assert/strict";
import { ShardChanges } from "./shard_changes.ts";

Deno.test("shard changes: a change in progress unsettles the version; a finished one moves it", () => {
  const changes = ShardChanges.create(3);
  const start = changes.version();
  assert.equal(start, 0);
  changes.begin(2);
  assert.equal(changes.version(), undefined, "shard 2 is changing");
  changes.begin(2);
  changes.end(2);
  assert.equal(changes.version(), undefined, "one of its two changes is still running");
  changes.end(2);
  assert.equal(changes.version(), 2);
});

Deno.test("shard changes: another view of the same memory sees every change", async () => {
  const changes = ShardChanges.create(2);
  const other = ShardChanges.of(changes.buffer);
  const done = Promise.withResolvers<void>();
  const running = other.during(0, () => done.promise);
  assert.equal(changes.version(), undefined);
  done.resolve();
  await running;
  assert.equal(changes.version(), 1);
});

Deno.test("shard changes: a change that threw still finishes", async () => {
  const changes = ShardChanges.create(1);
  await assert.rejects(changes.during(0, () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(changes.version(), 1);
});

Deno.test("shard changes: a restarted shard settles the change its predecessor left unfinished", () => {
  const changes = ShardChanges.create(2);
  changes.begin(1); // the worker died here
  assert.equal(changes.version(), undefined);
  changes.restarted(1);
  assert.equal(changes.version(), 1, "settled, and the version moved: the recovery may change it");
});
