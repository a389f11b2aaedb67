/**
 * One interactive session's state and its line handling, shared by the terminal (line editing)
 * and piped standard input: the backslash settings `\timing` and `\format`, then the commands.
 *
 * @module
 */

import { type ClientIO, type Connection, runCommand, splitWords } from "./commands.ts";
import { formatOutput, OUTPUT_FORMATS, type OutputFormat } from "./output.ts";

/** What a session remembers between lines. */
export interface SessionState {
  /** The server's URL (changed by `connect`). */
  base: string;
  /** Print each command's time (`\timing`). */
  timing: boolean;
  /** How results are shown (`\format`). */
  format: OutputFormat;
  /** The last command's exit code. */
  code: number;
  /** The API key and HTTP client every request uses. */
  connection?: Connection;
}

/** The settings' help, appended to the commands' help in interactive mode. */
export const SESSION_HELP = `Settings:
  \\timing [on|off]                       print how long each command took
  \\format aligned|json|plain             how results are shown`;

function setting(words: string[], state: SessionState, io: ClientIO): void {
  const [name, value] = words;
  if (name === "\\timing" && (value === undefined || value === "on" || value === "off")) {
    state.timing = value === undefined ? !state.timing : value === "on";
    io.out(`Timing is ${state.timing ? "on" : "off"}.`);
    state.code = 0;
  } else if (name === "\\format" && OUTPUT_FORMATS.includes(value as OutputFormat)) {
    state.format = value as OutputFormat;
    io.out(`Output format is ${state.format}.`);
    state.code = 0;
  } else if (name === "\\format" && value === undefined) {
    io.out(`Output format is ${state.format}.`);
    state.code = 0;
  } else {
    io.err(`usage: \\timing [on|off] | \\format ${OUTPUT_FORMATS.join("|")}`);
    state.code = 2;
  }
}

/** Runs one line; resolves true when the session should end. */
export async function runLine(line: string, state: SessionState, io: ClientIO): Promise<boolean> {
  const words = splitWords(line);
  if (words[0]?.startsWith("\\")) {
    setting(words, state, io);
    return false;
  }
  const shown: ClientIO = {
    ...io,
    show: (output) => {
      for (const text of formatOutput(output, state.format)) io.out(text);
    },
  };
  const started = performance.now();
  const result = await runCommand(words, state.base, shown, state.connection ?? {});
  if (words[0] === "help") io.out(SESSION_HELP);
  if (state.timing && words.length > 0) {
    io.out(`Time: ${(performance.now() - started).toFixed(2)} ms`);
  }
  state.code = result.code;
  if (result.base !== undefined) state.base = result.base;
  return result.exit === true;
}
