/**
 * The interactive client on a real pseudo-terminal (tmux), against a real server: Tab completion
 * of commands and index names, ↑ and Ctrl-R history recall, put/get, `\timing`, `\format json`,
 * Ctrl-C clearing a line and cancelling a command that hangs, history kept across sessions.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { withDeadline } from "../testing/deadline.ts";
import { waitUntil } from "../testing/wait.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const tmuxFound = new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((output) => output.success, () => false);

if (!(await tmuxFound)) {
  console.warn(
    "repl_test: skipped — tmux is not installed (apt-get install -y tmux, as .ci/run does)",
  );
}

function denoDir(): string {
  const home = Deno.env.get("HOME") ?? "/root";
  return Deno.env.get("DENO_DIR") ?? `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/deno`;
}

/** One tmux server of our own (its socket named for this test), holding the client. */
class Terminal {
  readonly #socket = `cameodb-repl-${crypto.randomUUID().slice(0, 8)}`;

  async #tmux(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", { args: ["-L", this.#socket, ...args] })
      .output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
    return new TextDecoder().decode(output.stdout);
  }

  start(command: string): Promise<string> {
    return this.#tmux("new-session", "-d", "-x", "160", "-y", "50", command);
  }

  /** Types `keys` (tmux key names such as `Enter`, `Tab`, `C-r`, or literal text). */
  keys(...keys: string[]): Promise<string> {
    return this.#tmux("send-keys", ...keys);
  }

  type(text: string): Promise<string> {
    return this.#tmux("send-keys", "-l", text);
  }

  /** The screen, without trailing blank lines. */
  async screen(): Promise<string> {
    // capture-pane drops trailing spaces: the prompt reads "cameodb>".
    return (await this.#tmux("capture-pane", "-p", "-S", "-200")).trimEnd();
  }

  /** Waits until the screen matches `pattern`. */
  async waitFor(pattern: RegExp, what: string): Promise<string> {
    return await waitUntil(
      async () => {
        const screen = await this.screen();
        return pattern.test(screen) ? screen : undefined;
      },
      15_000,
      `${what}: ${pattern}`,
    ).catch(async (error) => {
      throw new Error(`${error.message}\nscreen:\n${await this.screen()}`);
    });
  }

  /** The screen's last line (where the prompt is). */
  async lastLine(): Promise<string> {
    return (await this.screen()).split("\n").at(-1) ?? "";
  }

  async close(): Promise<void> {
    await this.#tmux("kill-server").catch(() => "");
  }
}

Deno.test({
  name: "interactive client on a terminal: completion, history recall, Ctrl-C, timing, formats",
  ignore: !(await tmuxFound),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    // A server that does not answer until the test ends: the command to cancel with Ctrl-C.
    const release = Promise.withResolvers<void>();
    // Resolved when the hung server has the client's request: the command is running then.
    const asked = Promise.withResolvers<void>();
    const hung = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => (asked.resolve(), release.promise.then(() => new Response("{}"))),
    );
    const terminal = new Terminal();
    try {
      await fetch(`${server.url}/api/books/document`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "b1", doc: { title: "Rust Programming", year: 2019 } }),
      }).then((response) => response.body?.cancel());
      await terminal.start(
        `env HOME=${dir} DENO_DIR=${denoDir()} ${Deno.execPath()} run --allow-all ${MAIN} client --connect ${server.url}; echo "client exited with $?"; sleep 60`,
      );
      await terminal.waitFor(/cameodb>$/, "the prompt");

      // Tab completes the command, then the index name from the server.
      await terminal.type("se");
      await terminal.keys("Tab");
      await terminal.waitFor(/cameodb> search$/, "command completed");
      await terminal.type("bo");
      await terminal.keys("Tab");
      await terminal.waitFor(/cameodb> search books$/, "index name completed");
      await terminal.type("title:rust");
      await terminal.keys("Enter");
      await terminal.waitFor(/b1\s+\d\.\d{3}\s+\{"title":"Rust Programming","year":2019\}/, "hit");
      await terminal.waitFor(/# 1 of 1 hits/, "the footer");

      // put and get, with JSON typed as is.
      await terminal.type('put books b2 {"title": "Go in Action", "year": 2016}');
      await terminal.keys("Enter");
      await terminal.waitFor(/b2\s+created\s+v1/, "put answered");
      await terminal.type("get books b2");
      await terminal.keys("Enter");
      await terminal.waitFor(/b2\s+v1\s+\{"title":"Go in Action","year":2016\}/, "get answered");

      // ↑ recalls the last command into the line.
      await terminal.keys("Up");
      await terminal.waitFor(/cameodb> get books b2$/, "↑ recalled the last command");
      // Ctrl-C at the prompt forgets the line and prompts again.
      await terminal.keys("C-c");
      await terminal.waitFor(/get books b2\^C\ncameodb>$/, "Ctrl-C cleared the line");

      // Ctrl-R finds an older command by a piece of it; Enter runs it.
      await terminal.keys("C-r");
      await terminal.type("title:");
      await terminal.waitFor(/\(reverse-i-search\)'title:': search books title:rust$/, "Ctrl-R");
      await terminal.keys("Enter");
      await terminal.waitFor(/# 1 of 1 hits[^]*# 1 of 1 hits/, "the recalled search ran");

      // \timing and \format json.
      await terminal.type("\\timing");
      await terminal.keys("Enter");
      await terminal.waitFor(/Timing is on\./, "timing on");
      await terminal.type("\\format json");
      await terminal.keys("Enter");
      await terminal.waitFor(/Output format is json\./, "json on");
      await terminal.type("get books b1");
      await terminal.keys("Enter");
      await terminal.waitFor(
        /\{"id":"b1","version":1,"doc":\{"title":"Rust Programming","year":2019\}\}\nTime: \d+\.\d\d ms/,
        "JSON output with its time",
      );

      // Ctrl-C cancels a command that hangs, and the client goes on.
      await terminal.type(`connect http://127.0.0.1:${hung.addr.port}`);
      await terminal.keys("Enter");
      await withDeadline(asked.promise, 10_000, "the connect command reaching the hung server");
      const before = await terminal.screen();
      assert.doesNotMatch(before.split("\n").at(-1)!, /cameodb>$/, "the command is running");
      await terminal.keys("C-c");
      await terminal.waitFor(/\^C\nerror: cancelled\n(Time: .*\n)?cameodb>$/, "command cancelled");
      await terminal.type("\\format aligned");
      await terminal.keys("Enter");
      await terminal.type("list indexes");
      await terminal.keys("Enter");
      await terminal.waitFor(/name\s+documents\s+shards\s+fields\s+engine\n-+/, "aligned table");
      await terminal.waitFor(/books\s+2\s+4\s+2\s+fts5/, "still talking to the first server");

      await terminal.type("exit");
      await terminal.keys("Enter");
      await terminal.waitFor(/client exited with 0/, "exit");
      const history = await Deno.readTextFile(`${dir}/.cameodb_history`);
      assert.match(history, /^search books title:rust\n/);
      assert.match(history, /\nget books b1\n/);
    } finally {
      await terminal.close();
      release.resolve();
      await hung.shutdown();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
