/**
 * What an operator meets when a server cannot start: a second server on a locked data
 * directory, a port in use, a read-only, missing or full data directory. Each one is a
 * real `cameodb serve` process that must exit 2 with one line naming the problem.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { withDeadline } from "../testing/deadline.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs `cameodb serve` to its end; resolves with its exit code and stderr. */
async function serveToExit(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await withDeadline(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "serve", ...args],
      stdout: "piped",
      stderr: "piped",
      env: {},
    }).output(),
    30_000,
    "cameodb serve to exit",
  );
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

async function mountTmpfs(options: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir();
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (mounted?.success !== true) {
    await Deno.remove(dir);
    return undefined;
  }
  return dir;
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir, { recursive: true });
}

Deno.test("startup: a second server on a data directory in use exits 2 naming the owner's pid", async () => {
  const dataDir = await Deno.makeTempDir();
  const first = await startServerProcess({ dataDir });
  try {
    const second = await serveToExit(["--http-port", "0", "--data-dir", dataDir]);
    assert.equal(second.code, 2);
    assertOneLine(
      second.stderr,
      new RegExp(`data directory ${dataDir} is in use by process ${first.child.pid}\\b`),
    );
    // The first server is unaffected.
    assert.equal(
      (await fetch(`${first.url}/_cluster/health`).then((r) => r.json())).status,
      "green",
    );
  } finally {
    await first.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startup: the lock of a SIGKILLed server is taken over by the next one, same node id", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const first = await startServerProcess({ dataDir });
    const id = (await fetch(`${first.url}/_cluster/health`).then((r) => r.json())).node_id;
    const status = await first.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    const second = await startServerProcess({ dataDir });
    try {
      const health = await fetch(`${second.url}/_cluster/health`).then((r) => r.json());
      assert.equal(health.node_id, id);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startup: a port in use exits 2 naming the port", async () => {
  const dataDir = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  try {
    const run = await serveToExit(["--http-port", String(port), "--data-dir", dataDir]);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  } finally {
    listener.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startup: a data directory that cannot be created exits 2 naming the path", async () => {
  const parent = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${parent}/file`, "not a directory");
    const dataDir = `${parent}/file/data`;
    const run = await serveToExit(["--http-port", "0", "--data-dir", dataDir]);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr, new RegExp(`data directory ${dataDir} cannot be created`));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("startup: a read-only data directory exits 2 naming the path", async (t) => {
  const dir = await mountTmpfs("ro,size=1m");
  if (dir === undefined) {
    t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn() {} });
    return;
  }
  try {
    const run = await serveToExit(["--http-port", "0", "--data-dir", dir]);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr, new RegExp(`data directory ${dir} is on a read-only file system`));
  } finally {
    await unmount(dir);
  }
});

Deno.test("startup: a full disk exits 2 naming the data directory", async (t) => {
  const dir = await mountTmpfs("size=512k");
  if (dir === undefined) {
    t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn() {} });
    return;
  }
  try {
    // 300 KiB of ballast: the lock file fits, the 1 MiB free-space probe does not.
    await Deno.writeFile(`${dir}/ballast`, new Uint8Array(300 * 1024));
    const run = await serveToExit(["--http-port", "0", "--data-dir", `${dir}/data`]);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr, new RegExp(`the disk of data directory ${dir}/data is full`));
  } finally {
    await unmount(dir);
  }
});
