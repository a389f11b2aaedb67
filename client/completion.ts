/**
 * Tab completion of the interactive client: command words, then index names where a command
 * takes one.
 *
 * @module
 */

/** The first words of every command, and the backslash settings. */
export const COMMAND_WORDS: readonly string[] = [
  "health",
  "list",
  "search",
  "get",
  "put",
  "data",
  "delete",
  "cluster",
  "connect",
  "help",
  "exit",
  "\\timing",
  "\\format",
];

/** The words that may follow a first word. */
const SECOND_WORDS: Record<string, readonly string[]> = {
  list: ["indexes", "index"],
  data: ["load"],
  cluster: ["nodes", "leave", "remove"],
  "\\format": ["aligned", "json", "plain"],
  "\\timing": ["on", "off"],
};

/** Where an index name goes: after these leading words. */
const INDEX_AFTER: readonly string[] = [
  "search",
  "get",
  "put",
  "delete",
  "list index",
  "data load",
];

/**
 * Completes the last word of `line`: the candidates and the text they complete (the
 * `node:readline` completer's answer).
 */
export function complete(line: string, indexNames: readonly string[]): [string[], string] {
  const words = line.split(/\s+/);
  const last = words.pop() ?? "";
  const before = words.filter((word) => word !== "");
  let choices: readonly string[] = [];
  if (before.length === 0) choices = COMMAND_WORDS;
  else if (INDEX_AFTER.includes(before.join(" "))) choices = indexNames;
  else if (before.length === 1) choices = SECOND_WORDS[before[0]!] ?? [];
  const hits = choices.filter((choice) => choice.startsWith(last)).map((choice) => `${choice} `);
  return [hits, last];
}
