/** The client against a real server: one-shot commands, and an interactive session on piped stdin. */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function denoDir(): string {
  const home = Deno.env.get("HOME") ?? "/root";
  return Deno.env.get("DENO_DIR") ?? `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/deno`;
}

async function client(args: string[], options: { stdin?: string; home?: string } = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "client", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // A test HOME for the history file; Deno's cache stays where it is.
    env: options.home === undefined ? {} : { HOME: options.home, DENO_DIR: denoDir() },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin ?? ""));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test({
  name: "client: data load of a CSV, search, list, delete — one-shot, scriptable, with exit codes",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      const csv = `${dir}/books.csv`;
      await Deno.writeTextFile(
        csv,
        'isbn,title,year,price,draft,zip\n0042,"Rust, the Book",2019,39.5,false,90210\n0043,Go in Action,2016,29,false,02134\n',
      );
      const connect = ["--connect", server.url];
      const load = await client([
        ...connect,
        "data",
        "load",
        "books",
        csv,
        "--id",
        "isbn",
        "--batch-size",
        "1",
      ]);
      // Typed by column: year is i64, zip stays text (02134 is not a number, so 90210 isn't).
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /loaded 2 of 2 documents into books \(0 errors\)/);
      // A later file whose year column holds a word: the column is text, the index says i64.
      const late = `${dir}/late.csv`;
      await Deno.writeTextFile(late, "isbn,title,year\n0044,Bad Year,soon\n");
      const refusedLoad = await client([...connect, "data", "load", "books", late, "--id", "isbn"]);
      assert.equal(refusedLoad.code, 1);
      assert.match(refusedLoad.stdout, /loaded 0 of 1 documents into books \(1 errors\)/);
      assert.match(refusedLoad.stderr, /record 1 \(0044\): .*field "year" expects i64, got "soon"/);
      const typed = await client([...connect, "list", "index", "books"]);
      assert.match(typed.stdout, /year\ti64/);
      assert.equal(typed.code, 0);

      const search = await client([...connect, "search", "books", "title:rust", "5"]);
      assert.equal(search.code, 0, search.stderr);
      assert.match(
        search.stdout,
        /^0042\t\d+\.\d{3}\t\{"title":"Rust, the Book","year":2019,"price":39.5,"draft":false,"zip":"90210"\}\n# 1 of 1 hits/,
      );

      const list = await client([...connect, "list", "indexes"]);
      assert.match(list.stdout, /^name\tdocuments\tshards\tfields\tengine\nbooks\t2\t4\t/);

      const deleted = await client([...connect, "delete", "books", "--id", "0043,nope"]);
      assert.match(deleted.stdout, /deleted 1 of 2 documents/);

      const bad = await client([...connect, "search", "books", "year:abc"]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /400 Bad request: Field "year" expects i64, got "abc"/);
      const usage = await client([...connect, "search"]);
      assert.equal(usage.code, 2);
      const refused = await client([...connect, "delete", "books"], { stdin: "n\n" });
      assert.match(
        refused.stdout,
        /Delete index books and all its documents\? \[y\/N\] not deleted/,
      );
      assert.equal(refused.code, 1);
      const unreachable = await client(["--connect", "http://127.0.0.1:1", "health"]);
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /cannot reach/);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "client: an interactive session on piped stdin, with history kept in the home directory",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      const json = `${dir}/words.json`;
      await Deno.writeTextFile(
        json,
        JSON.stringify([{ id: "w1", word: "apple" }, { id: "w2", word: "apricot" }]),
      );
      const session = [
        "help",
        "health",
        `data load words ${json}`,
        'search words "word:ap*" 10',
        "delete words",
        "y",
        "list indexes",
        "exit",
        "health",
      ].join("\n") + "\n";
      const result = await client(["-i", "--connect", server.url], { stdin: session, home: dir });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Commands:\n {2}health/);
      assert.match(result.stdout, /status: green/);
      assert.match(result.stdout, /loaded 2 of 2 documents into words/);
      assert.match(
        result.stdout,
        /w1\t.*"word":"apple"[\s\S]*w2\t.*"word":"apricot"[\s\S]*# 2 of 2 hits/,
      );
      assert.match(result.stdout, /deleted index words from 4 of 4 shards/);
      assert.match(result.stdout, /name\tdocuments\tshards\tfields\tengine\n(?!words)/);
      assert.equal(result.stdout.match(/status: green/g)?.length, 1, "commands after exit ran");
      const history = await Deno.readTextFile(`${dir}/.cameodb_history`);
      assert.match(history, /^help\nhealth\ndata load words/);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
