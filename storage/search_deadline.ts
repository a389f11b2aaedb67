/**
 * A search's deadline inside the engines: a check they call between units of work (a fuzzy
 * term's expansion, a sloppy phrase's positions, a term's postings, a leaf's scores), which
 * throws {@linkcode SearchTimeoutError} once the deadline has passed — so a shard stops
 * working on a request its client was already answered 408 for, instead of holding the
 * worker for the whole query. One SQLite statement is never cut short: it is one unit.
 *
 * The deadline is wall-clock time (`Date.now()`, epoch ms): the one clock the node's
 * isolates share (each worker's `performance.now()` has its own origin), and, within their
 * clocks' skew, the nodes of a cluster.
 *
 * @module
 */

import { SearchTimeoutError } from "./errors.ts";

/** Called between units of work; throws `SearchTimeoutError` past the deadline. */
export type DeadlineCheck = () => void;

/** The check of a search without a deadline. */
export const NO_DEADLINE: DeadlineCheck = () => {};

/** The check of a search that must stop at `deadlineAtMs` (epoch ms; `undefined`: never). */
export function deadlineCheck(
  deadlineAtMs: number | undefined,
  options: { readonly now?: () => number } = {},
): DeadlineCheck {
  if (deadlineAtMs === undefined) return NO_DEADLINE;
  const now = options.now ?? Date.now;
  return () => {
    const late = now() - deadlineAtMs;
    if (late > 0) {
      throw new SearchTimeoutError(`The search passed its deadline ${late} ms ago; it stopped`);
    }
  };
}
