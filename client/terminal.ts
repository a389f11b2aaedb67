/**
 * The interactive client on a terminal, with `node:readline` (built into Deno's Node
 * compatibility; no extra dependency) for line editing, history recall with ↑/↓ and Tab
 * completion. Standard input is read raw here and passed on to readline, so that two keys are
 * handled before it: Ctrl-R, a reverse incremental history search (readline has none), and
 * Ctrl-C while a command runs, which aborts that command instead of quitting.
 *
 * @module
 */

import process from "node:process";
import readline from "node:readline";
import { PassThrough } from "node:stream";
import type { ClientIO } from "./commands.ts";
import { complete } from "./completion.ts";
import type { Connection } from "./commands.ts";
import { loadHistory, MAX_HISTORY, remember, searchHistory } from "./history.ts";
import { progressBar } from "./output.ts";
import { runLine, type SessionState } from "./session.ts";

/** The prompt. */
export const PROMPT = "cameodb> ";
/** How long Tab waits for the server's index names, in milliseconds. */
export const COMPLETION_TIMEOUT_MS = 1_000;

const CTRL_C = "\x03";
const CTRL_R = "\x12";

/** Index names from the server, for completion; none when it does not answer in time. */
async function indexNames(base: string, connection: Connection = {}): Promise<string[]> {
  try {
    const response = await fetch(new URL("/_indexes", base), {
      signal: AbortSignal.timeout(COMPLETION_TIMEOUT_MS),
      ...(connection.apiKey === undefined
        ? {}
        : { headers: { authorization: `Bearer ${connection.apiKey}` } }),
      ...(connection.httpClient === undefined ? {} : { client: connection.httpClient }),
    });
    const answer = await response.json() as { indexes?: Array<{ name: string }> };
    return (answer.indexes ?? []).map((index) => index.name);
  } catch {
    return [];
  }
}

/** Ctrl-R: the search text, the match shown, and where the next older match is looked for. */
interface ReverseSearch {
  query: string;
  match: { at: number; line: string } | undefined;
}

/** Lines as readline produces them, taken one at a time by the session and by `confirm`. */
function lineQueue(rl: readline.Interface) {
  const waiting: Array<(line: string | undefined) => void> = [];
  const ready: Array<string | undefined> = [];
  const push = (line: string | undefined) => {
    const taker = waiting.shift();
    if (taker === undefined) ready.push(line);
    else taker(line);
  };
  rl.on("line", (line) => push(line));
  rl.on("close", () => push(undefined));
  return (): Promise<string | undefined> =>
    ready.length > 0
      ? Promise.resolve(ready.shift())
      : new Promise((resolve) => waiting.push(resolve));
}

/** Runs the session on the terminal until `exit` or Ctrl-D; resolves with the last code. */
export async function terminalSession(state: SessionState): Promise<number> {
  const history = await loadHistory();
  const input = new PassThrough();
  const rl = readline.createInterface({
    input,
    output: process.stdout,
    terminal: true,
    prompt: PROMPT,
    history: [...history].reverse(),
    historySize: MAX_HISTORY,
    removeHistoryDuplicates: true,
    completer: (line: string, done: (error: null, answer: [string[], string]) => void) => {
      indexNames(state.base, state.connection).then((names) => done(null, complete(line, names)));
    },
  });
  const nextLine = lineQueue(rl);
  let running: AbortController | undefined;
  let search: ReverseSearch | undefined;

  const render = () => {
    const shown = search?.match?.line ?? "";
    process.stdout.write(`\r\x1b[K(reverse-i-search)'${search?.query ?? ""}': ${shown}`);
  };
  /** Leaves the search: the match goes into readline's line, run at once with Enter. */
  const endSearch = (run: boolean) => {
    const line = search?.match?.line ?? "";
    search = undefined;
    process.stdout.write("\r\x1b[K");
    // Ctrl-E, Ctrl-U: empty readline's line (it redraws the prompt), then type the match.
    input.write(`\x05\x15${line}${run ? "\r" : ""}`);
  };
  const onSearchKey = (key: string) => {
    const s = search!;
    if (key === CTRL_R) s.match = searchHistory(history, s.query, s.match?.at ?? history.length);
    else if (key === "\x7f" || key === "\b") {
      s.query = s.query.slice(0, -1);
      s.match = searchHistory(history, s.query);
    } else if (key === "\r" || key === "\n") return endSearch(true);
    else if (key === "\x07" || key === CTRL_C) {
      s.match = undefined;
      return endSearch(false);
    } else if (key.startsWith("\x1b")) return endSearch(false);
    else if (key >= " ") {
      s.query += key;
      s.match = searchHistory(history, s.query);
    }
    render();
  };

  process.stdin.setRawMode(true);
  process.stdin.on("data", (chunk: Uint8Array | string) => {
    const key = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    if (search !== undefined) return onSearchKey(key);
    if (running !== undefined && key.includes(CTRL_C)) {
      process.stdout.write("^C\n");
      return running.abort();
    }
    if (running === undefined && key.startsWith(CTRL_R)) {
      // Keys typed fast (or pasted) may arrive with the Ctrl-R in one chunk: the rest is the
      // search text.
      search = { query: "", match: undefined };
      const rest = key.slice(CTRL_R.length);
      return rest === "" ? render() : onSearchKey(rest);
    }
    input.write(key);
  });
  rl.on("SIGINT", () => {
    // Ctrl-C at the prompt: forget the line, as a shell does.
    process.stdout.write("^C\n");
    rl.write(null, { ctrl: true, name: "e" });
    rl.write(null, { ctrl: true, name: "u" });
  });

  const io: ClientIO & { signal?: AbortSignal } = {
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    async confirm(question) {
      rl.setPrompt(question);
      rl.prompt();
      const answer = await nextLine();
      rl.setPrompt(PROMPT);
      return answer !== undefined && /^y(es)?$/i.test(answer.trim());
    },
    progress(done, total, rate) {
      process.stderr.write(`\r${progressBar(done, total, rate)}${done === total ? "\n" : ""}`);
    },
  };
  rl.prompt();
  try {
    while (true) {
      const line = await nextLine();
      if (line === undefined) break;
      // Running from the moment the line is taken: a Ctrl-C while the history is written
      // cancels this command (it was read as a Ctrl-C at the prompt, and the command ran on).
      running = new AbortController();
      if (line.trim() !== "") {
        history.push(line);
        await remember(line);
      }
      const exit = await runLine(line, state, { ...io, signal: running.signal });
      running = undefined;
      if (exit) break;
      rl.prompt();
    }
  } finally {
    rl.close();
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  return state.code;
}
