import assert from "node:assert/strict";
import { withDeadline } from "../testing/deadline.ts";
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
    assert.match(new TextDecoder().decode(output.stdout), /^status: green\nnode: /);
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
  assert.match(
    new TextDecoder().decode(output.stderr),
    /--http-port: network.http.port expects an integer, got "nope"/,
  );
});

function cameodb(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
  }).output();
}

Deno.test("cli: generate-config prints a file that check-config accepts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const generated = await cameodb(["generate-config"]);
    assert.equal(generated.code, 0);
    const text = new TextDecoder().decode(generated.stdout);
    assert.match(
      text,
      /\[network\.http\]\n# address the HTTP API listens on; env CAMEODB_NETWORK_HTTP_BIND_ADDRESS/,
    );
    await Deno.writeTextFile(`${dir}/cameodb.toml`, text);
    const checked = await cameodb(["check-config"], { cwd: dir });
    assert.equal(checked.code, 0);
    assert.match(
      new TextDecoder().decode(checked.stdout),
      /configuration ok \(\.\/cameodb\.toml\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: check-config reports unknown keys and bad values with their line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.toml`, "[network.http]\nprot = 9480\nport = -1\n");
    const checked = await cameodb(["check-config", "-c", `${dir}/bad.toml`]);
    assert.equal(checked.code, 1);
    const stderr = new TextDecoder().decode(checked.stderr);
    assert.match(stderr, /bad\.toml:2: unknown key "network\.http\.prot"/);
    assert.match(stderr, /bad\.toml:3: network\.http\.port must be between 0 and 65535, got -1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server: the environment overrides the file; a bad file refuses to start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/cameodb.toml`,
      '[node]\nlabel = "from-file"\n[network.cluster]\ncluster_name = "blue"\n',
    );
    const server = await startServerProcess({
      dataDir: `${dir}/data`,
      args: ["--config", `${dir}/cameodb.toml`],
      env: { CAMEODB_NODE_LABEL: "from-env" },
    });
    try {
      const health = await (await fetch(`${server.url}/_cluster/health`)).json();
      assert.equal(health.node_name, "from-env");
      assert.equal(health.cluster_name, "blue");
    } finally {
      await server.stop();
    }
    await Deno.writeTextFile(`${dir}/broken.toml`, "[storage]\nnum_shards_init = 0\n");
    const refused = await cameodb(["serve", "--config", `${dir}/broken.toml`, "--http-port", "0"]);
    assert.equal(refused.code, 2);
    assert.match(
      new TextDecoder().decode(refused.stderr),
      /broken\.toml:2: storage\.num_shards_init must be between 1 and 1024/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server: CAMEODB_LOG sets the log level; an unknown level refuses to start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const refused = await cameodb(["serve", "--http-port", "0", "--data-dir", `${dir}/a`], {
      env: { CAMEODB_LOG: "loud" },
    });
    assert.equal(refused.code, 2);
    assert.match(
      new TextDecoder().decode(refused.stderr),
      /CAMEODB_LOG must be debug, info, warn or error/,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "serve", "--http-port", "0", "--data-dir", `${dir}/b`],
      env: { CAMEODB_LOG: "debug" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.getReader();
    let seen = "";
    const decoder = new TextDecoder();
    const reading = (async () => {
      while (!/DEBUG configuration/.test(seen)) {
        const { value, done } = await stderr.read();
        if (done) break;
        seen += decoder.decode(value);
      }
    })();
    try {
      await withDeadline(reading, 30_000, "the DEBUG configuration line");
    } catch (error) {
      child.kill("SIGKILL");
      await Promise.all([child.status, stderr.cancel(), child.stdout.cancel()]);
      throw error;
    }
    assert.match(seen, /DEBUG configuration \{"node":/);
    // The configuration is logged after the banner, so the signal handlers are in place.
    child.kill("SIGTERM");
    stderr.releaseLock();
    const [status] = await Promise.all([
      child.status,
      child.stdout.cancel(),
      child.stderr.cancel(),
    ]);
    assert.equal(status.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server: small JSON answers go out uncompressed to a client that accepts brotli; large ones compressed", async () => {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir });
  const accepting = { "accept-encoding": "gzip, br" };
  try {
    const docs = Array.from({ length: 60 }, (_, i) => ({
      id: `d${i}`,
      doc: { title: `document ${i}`, text: "words to fill the answer ".repeat(20) },
    }));
    const bulk = await fetch(`${server.url}/api/docs/_bulk`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(docs),
    });
    assert.equal(bulk.status, 200);
    await bulk.body?.cancel();
    const read = await fetch(`${server.url}/api/docs/document/d1`, { headers: accepting });
    assert.equal(read.headers.get("content-encoding"), null, "a point read is not compressed");
    assert.equal(((await read.json()) as { id: string }).id, "d1");
    const search = (limit: number) =>
      fetch(`${server.url}/api/docs/search`, {
        method: "POST",
        headers: { "content-type": "application/json", ...accepting },
        body: JSON.stringify({ query: "words", limit }),
      });
    const page = await search(2);
    assert.equal(page.headers.get("content-encoding"), null, "a small page is not compressed");
    assert.equal(((await page.json()) as { hits: unknown[] }).hits.length, 2);
    // 60 hits of ~500 bytes: over the 16 KiB below which answers are sent as they are.
    const large = await search(60);
    assert.ok(large.headers.get("content-encoding") !== null, "a large page is compressed");
    assert.equal(((await large.json()) as { hits: unknown[] }).hits.length, 60);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
