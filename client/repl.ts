/**
 * The client's interactive mode: reads commands line by line from standard input, keeps
 * the history in `~/.cameodb_history` (the last 1000 commands), and shows a progress bar
 * on a terminal.
 *
 * @module
 */

import { type ClientIO, type Connection, HELP, runCommand, splitWords } from "./commands.ts";

/** History lines kept. */
export const MAX_HISTORY = 1_000;

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

function historyPath(): string | undefined {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home === undefined ? undefined : `${home}/.cameodb_history`;
}

async function remember(line: string): Promise<void> {
  const path = historyPath();
  if (path === undefined || line.trim() === "") return;
  try {
    let lines: string[] = [];
    try {
      lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
    } catch { /* no history yet */ }
    lines.push(line);
    await Deno.writeTextFile(path, lines.slice(-MAX_HISTORY).join("\n") + "\n");
  } catch { /* history is best effort */ }
}

/** A terminal progress bar with documents per second. */
export function progressBar(done: number, total: number, docsPerSecond: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${
    " ".repeat(width - filled)
  }] ${done}/${total} docs, ${docsPerSecond} docs/s`;
}

/** Runs the interactive loop until `exit` or the end of input; resolves with the last code. */
export async function repl(initialBase: string, connection: Connection = {}): Promise<number> {
  const encoder = new TextEncoder();
  const tty = Deno.stdin.isTerminal();
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  const lines = stdinLines();
  const io: ClientIO = {
    out: (line) => write(line + "\n"),
    err: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    async confirm(question) {
      write(question);
      const answer = await lines.next();
      if (!tty) write("\n");
      return !answer.done && /^y(es)?$/i.test(answer.value.trim());
    },
    progress(done, total, rate) {
      if (Deno.stderr.isTerminal()) {
        Deno.stderr.writeSync(
          encoder.encode(`\r${progressBar(done, total, rate)}${done === total ? "\n" : ""}`),
        );
      }
    },
  };
  let base = initialBase;
  let code = 0;
  if (tty) {
    io.out(`CameoDB client, connected to ${base}. ${HELP.split("\n")[0]} "help" lists them.`);
  }
  while (true) {
    if (tty) write("cameodb> ");
    const next = await lines.next();
    if (next.done) break;
    const line = next.value;
    await remember(line);
    const result = await runCommand(splitWords(line), base, io, connection);
    code = result.code;
    if (result.base !== undefined) base = result.base;
    if (result.exit === true) break;
  }
  return code;
}
