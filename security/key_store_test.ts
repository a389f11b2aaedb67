import assert from "node:assert/strict";
import { type KeyChange, KeyStore } from "./key_store.ts";

const request = {
  description: "t",
  actions: ["search"] as const,
  indexes: ["books"],
  expires_at: null,
};

Deno.test("security: a key store keeps hashes on disk and checks keys from memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const changes: KeyChange[] = [];
    const store = await KeyStore.open(dir, { onChange: (change) => changes.push(change) });
    const { key, info } = await store.create({ ...request, actions: [...request.actions] });
    const file = await Deno.readTextFile(`${dir}/keys.json`);
    assert.ok(!file.includes(key));
    assert.ok(file.includes(info.id));
    assert.deepEqual(store.check(key), {
      ok: true,
      grant: { keyId: info.id, actions: ["search"], indexes: ["books"] },
    });
    assert.deepEqual(store.check(key + "x"), { ok: false, reason: "unknown_key" });
    assert.deepEqual(changes.map((c) => c.type), ["put"]);

    const reopened = await KeyStore.open(dir);
    assert.equal(reopened.check(key).ok, true, "durable");
    assert.ok(await reopened.delete(info.id));
    assert.equal(reopened.check(key).ok, false, "refused at once");
    assert.equal((await KeyStore.open(dir)).check(key).ok, false, "deleted on disk");
    assert.ok(!(await reopened.delete(info.id)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("security: an expired key is refused by the injected clock", async () => {
  let nowMs = Date.parse("2030-01-01T00:00:00Z");
  const store = await KeyStore.open(undefined, { now: () => nowMs });
  const { key } = await store.create({
    ...request,
    actions: ["search"],
    expires_at: "2030-01-01T00:01:00.000Z",
  });
  assert.equal(store.check(key).ok, true);
  nowMs += 60_000;
  assert.deepEqual(store.check(key), { ok: false, reason: "expired_key" });
});

Deno.test("security: a peer's store converges through apply(); a deleted key never comes back", async () => {
  const changes: KeyChange[] = [];
  const a = await KeyStore.open(undefined, { onChange: (change) => changes.push(change) });
  const b = await KeyStore.open(undefined);
  const { key, info } = await a.create({ ...request, actions: ["search"] });
  for (const change of changes) await b.apply(change);
  assert.equal(b.check(key).ok, true);
  const stale = a.snapshot();
  await a.delete(info.id);
  await b.apply(changes.at(-1)!);
  assert.equal(b.check(key).ok, false);
  // An old snapshot arriving late does not resurrect the key.
  for (const stored of stale.keys) await b.apply({ type: "put", key: stored });
  assert.equal(b.check(key).ok, false);
  assert.deepEqual(b.snapshot().deleted, [info.id]);
});

Deno.test("security: a key that cannot be written is not created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await KeyStore.open(dir);
    await Deno.mkdir(`${dir}/keys.json.tmp`); // the temporary file cannot be opened
    await assert.rejects(
      store.create({ ...request, actions: ["search"] }),
      (error: Error) => error.name === "KeyStorageError",
    );
    assert.equal(store.size, 0);
    assert.deepEqual(store.list(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("security: merging a snapshot keeps both sides' keys and both sides' deletions", async () => {
  const a = await KeyStore.open(undefined);
  const b = await KeyStore.open(undefined);
  const fromA = await a.create({ ...request, actions: ["search"] });
  const fromB = await b.create({ ...request, actions: ["search"] });
  const goneOnB = await b.create({ ...request, actions: ["search"] });
  await a.applySnapshot(b.snapshot());
  await b.delete(goneOnB.info.id);
  await b.applySnapshot(a.snapshot()); // a still holds goneOnB: b's deletion wins
  await a.applySnapshot(b.snapshot());
  for (const store of [a, b]) {
    assert.equal(store.check(fromA.key).ok, true);
    assert.equal(store.check(fromB.key).ok, true);
    assert.equal(store.check(goneOnB.key).ok, false);
  }
});
