import assert from "node:assert/strict";
import { loadNodeId } from "./identity.ts";

Deno.test("identity: the node id is created once and kept across restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await loadNodeId(`${dir}/data`);
    assert.match(first, /^[0-9a-f-]{36}$/);
    assert.equal(await loadNodeId(`${dir}/data`), first);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
