/**
 * What an API key may do: its actions and the index patterns it is limited to.
 *
 * @module
 */

/** Every action a key can be given; `*` is all of them. */
export const ACTIONS = [
  "search",
  "documents.get",
  "documents.write",
  "documents.delete",
  "indexes.manage",
  "keys.manage",
  "cluster.manage",
  "*",
] as const;

/** One action. */
export type Action = typeof ACTIONS[number];

/** True when `value` names an action. */
export function isAction(value: unknown): value is Action {
  return typeof value === "string" && (ACTIONS as readonly string[]).includes(value);
}

/** What a request is allowed to do: the master key (everything) or an API key's rights. */
export interface Grant {
  /** `master` for the master key, else the API key's id. */
  readonly keyId: string;
  readonly actions: readonly Action[];
  /** Index patterns: names, with `*` matching any run of characters. */
  readonly indexes: readonly string[];
}

/** The master key's grant: every action on every index. */
export const MASTER_GRANT: Grant = { keyId: "master", actions: ["*"], indexes: ["*"] };

/** True when the grant holds `action`. */
export function hasAction(grant: Grant, action: Action): boolean {
  return grant.actions.includes("*") || grant.actions.includes(action);
}

/** True when `name` matches the pattern (`*` matches any run of characters, also none). */
export function matchesPattern(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (!name.startsWith(first) || name.length < first.length + last.length) return false;
  if (!name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/** True when the grant's index patterns cover the index `name`. */
export function coversIndex(grant: Grant, name: string): boolean {
  return grant.indexes.some((pattern) => matchesPattern(pattern, name));
}

/**
 * True when `grant` may hand out `wanted` (a key may create only keys with no more rights than
 * its own): every wanted action it holds, and every wanted pattern is one of its own patterns
 * or a literal name (no `*`) its patterns cover.
 */
export function grantCovers(grant: Grant, wanted: Pick<Grant, "actions" | "indexes">): boolean {
  const actionsOk = wanted.actions.every((action) =>
    grant.actions.includes("*") || (action !== "*" && grant.actions.includes(action))
  );
  const indexesOk = wanted.indexes.every((pattern) =>
    grant.indexes.includes("*") || grant.indexes.includes(pattern) ||
    (!pattern.includes("*") && coversIndex(grant, pattern))
  );
  return actionsOk && indexesOk;
}
