/**
 * The client's interactive mode. On a terminal: line editing, history (↑/↓, Ctrl-R), Tab
 * completion, Ctrl-C cancelling the running command (`terminal.ts`), aligned output. On piped
 * standard input: one command a line, plain output, no prompt. Both keep the history in
 * `~/.cameodb_history` and take the settings `\timing` and `\format`.
 *
 * @module
 */

import { type Connection, HELP } from "./commands.ts";
import { remember } from "./history.ts";
import { runLine, type SessionState } from "./session.ts";
import { terminalSession } from "./terminal.ts";

export { MAX_HISTORY } from "./history.ts";
export { progressBar } from "./output.ts";

/** Reads standard input line by line. */
export async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== "") yield buffered;
}

/** Commands from piped standard input, one a line, until `exit` or its end. */
async function pipedSession(state: SessionState): Promise<number> {
  const encoder = new TextEncoder();
  const lines = stdinLines();
  const io = {
    out: (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
    err: (line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    async confirm(question: string) {
      Deno.stdout.writeSync(encoder.encode(question + "\n"));
      const answer = await lines.next();
      return !answer.done && /^y(es)?$/i.test(answer.value.trim());
    },
  };
  for await (const line of lines) {
    await remember(line);
    if (await runLine(line, state, io)) break;
  }
  return state.code;
}

/** Runs the interactive loop until `exit` or the end of input; resolves with the last code. */
export async function repl(initialBase: string, connection: Connection = {}): Promise<number> {
  const tty = Deno.stdin.isTerminal();
  const state: SessionState = {
    base: initialBase,
    timing: false,
    format: tty ? "aligned" : "plain",
    code: 0,
    connection,
  };
  if (!tty) return await pipedSession(state);
  console.log(
    `CameoDB client, connected to ${initialBase}. ${HELP.split("\n")[0]} "help" lists them.`,
  );
  return await terminalSession(state);
}
