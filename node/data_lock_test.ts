import assert from "node:assert/strict";
import { acquireDataLock, DataDirectoryInUseError } from "./data_lock.ts";

Deno.test("acquireDataLock() refuses a held lock naming the owner's pid, and is free after release", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await acquireDataLock(`${dir}/data`);
    // flock locks belong to the open file, so a second open in this process conflicts too.
    const refused = await acquireDataLock(`${dir}/data`).catch((error) => error);
    assert.ok(refused instanceof DataDirectoryInUseError);
    assert.equal(refused.pid, Deno.pid);
    assert.match(refused.message, new RegExp(`in use by process ${Deno.pid}`));
    first.release();
    const again = await acquireDataLock(`${dir}/data`);
    again.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
