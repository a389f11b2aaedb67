/**
 * The module imported from elsewhere: a program in a temporary directory outside the repository,
 * with no `deno.json` of its own, imports `mod.ts` by path and talks to a real server; the client
 * bundled as plain JavaScript does the same from Node; and `deno publish --dry-run` passes.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

const ROOT = new URL("../", import.meta.url);
const MOD = new URL("mod.ts", ROOT).href;

async function run(command: string, args: string[], cwd: string) {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** A tiny program importing `connect` from `specifier` and talking to the server at `url`. */
function program(specifier: string, url: string): string {
  return `
import { connect } from ${JSON.stringify(specifier)};
const db = connect(${JSON.stringify(url)});
const books = db.index("outside");
await books.put({ id: "b1", doc: { title: "Rust Programming", year: 2019 } });
const { hits, total_hits } = await books.search({ query: "title:rust", fields: ["title"] });
const missing = await books.get("nope");
const streamed = await books.stream([{ id: "s1", doc: { title: "Streamed", year: 2020 } }]);
const error = await db.index("nosuch").config().catch((e) => e);
console.log(JSON.stringify({ total_hits, title: hits[0].title, missing, notFound: error.name === "NotFoundError", streamed: streamed.items_written }));
await db.close();
`;
}

Deno.test({
  name: "a program outside the repository imports mod.ts by path (no config) and uses connect()",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cameodb-import-" });
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      await Deno.writeTextFile(`${dir}/program.ts`, program(MOD, server.url));
      const result = await run(
        Deno.execPath(),
        ["run", "--allow-net", "program.ts"],
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        total_hits: 1,
        title: "Rust Programming",
        missing: null,
        notFound: true,
        streamed: 1,
      });
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const node = await run("node", ["--version"], Deno.cwd()).catch(() => undefined);

Deno.test({
  name: "the client bundled as JavaScript runs under Node against a real server",
  ignore: node?.code !== 0,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cameodb-node-" });
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      const bundled = await run(Deno.execPath(), [
        "bundle",
        "--platform",
        "browser",
        "-o",
        `${dir}/cameodb_client.js`,
        new URL("client/connect.ts", ROOT).pathname,
      ], dir);
      assert.equal(bundled.code, 0, bundled.stderr);
      await Deno.writeTextFile(
        `${dir}/program.mjs`,
        program("./cameodb_client.js", server.url),
      );
      const result = await run("node", ["program.mjs"], dir);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        total_hits: 1,
        title: "Rust Programming",
        missing: null,
        notFound: true,
        streamed: 1,
      });
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno publish --dry-run accepts the package (explicit types, license, exports)", async () => {
  const result = await run(
    Deno.execPath(),
    ["publish", "--dry-run", "--allow-dirty"],
    new URL(".", ROOT).pathname,
  );
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout + result.stderr, /Dry run complete/);
});
