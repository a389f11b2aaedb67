import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test("server: answers /_cluster/health and keeps its node id across restarts", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const first = await startServerProcess({ dataDir });
    const health = await (await fetch(`${first.url}/_cluster/health`)).json();
    assert.equal(health.status, "green");
    assert.equal(health.cluster_enabled, false);
    assert.equal(typeof health.node_id, "string");
    const status = await first.stop("SIGTERM");
    assert.equal(status.code, 0, "graceful shutdown exits 0");
    assert.match(first.output(), /CameoDB stopped/);

    const second = await startServerProcess({ dataDir, args: ["--node-label", "n2"] });
    const again = await (await fetch(`${second.url}/_cluster/health`)).json();
    assert.equal(again.node_id, health.node_id);
    assert.equal(again.node_name, "n2");
    await second.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("server: unknown routes and methods answer 404 and 405 in the error shape", async () => {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir });
  try {
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(await missing.json()).sort(), ["details", "error"]);
    const wrong = await fetch(`${server.url}/_cluster/health`, { method: "POST" });
    assert.equal(wrong.status, 405);
    await wrong.body?.cancel();
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("client: `cameodb client health` prints the server's health", async () => {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "client", "--connect", server.url, "health"],
    }).output();
    assert.equal(output.code, 0);
    const printed = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(printed.status, "green");
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("cli: a bad flag exits 2 with the usage", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "serve", "--http-port", "nope"],
  }).output();
  assert.equal(output.code, 2);
  assert.match(new TextDecoder().decode(output.stderr), /--http-port expects a port number/);
});
