/**
 * The interactive client's command history, kept in `~/.cameodb_history` (the last
 * {@linkcode MAX_HISTORY} commands, oldest first), and the search of Ctrl-R.
 *
 * @module
 */

/** History lines kept. */
export const MAX_HISTORY = 1_000;

/** The history file: `$HOME/.cameodb_history`, or none without a home directory. */
export function historyPath(): string | undefined {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home === undefined ? undefined : `${home}/.cameodb_history`;
}

/** The saved history, oldest first (empty when there is none). */
export async function loadHistory(path: string | undefined = historyPath()): Promise<string[]> {
  if (path === undefined) return [];
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

/** Appends `line` to the history file, keeping the last `MAX_HISTORY`; best effort. */
export async function remember(
  line: string,
  path: string | undefined = historyPath(),
): Promise<void> {
  if (path === undefined || line.trim() === "") return;
  try {
    const lines = await loadHistory(path);
    lines.push(line);
    await Deno.writeTextFile(path, lines.slice(-MAX_HISTORY).join("\n") + "\n");
  } catch { /* history is best effort */ }
}

/**
 * The newest history entry before position `before` containing `query` (Ctrl-R): its position
 * and text, or undefined.
 */
export function searchHistory(
  history: readonly string[],
  query: string,
  before: number = history.length,
): { at: number; line: string } | undefined {
  for (let at = Math.min(before, history.length) - 1; at >= 0; at--) {
    const line = history[at]!;
    if (line.includes(query)) return { at, line };
  }
  return undefined;
}
