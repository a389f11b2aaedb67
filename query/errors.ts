/**
 * The one error of the query language: what was wrong, where (a 0-based position in the
 * query), and a caret under the query pointing at it.
 *
 * @module
 */

/** A query that cannot be parsed or does not fit the index's schema (HTTP 400). */
export class QueryError extends Error {
  override readonly name = "QueryError";
  /** 0-based offset in the query. */
  readonly position: number;
  /** The query, a line with a caret under `position`. */
  readonly pointer: string;

  constructor(message: string, query: string, position: number) {
    const at = Math.max(0, Math.min(position, query.length));
    super(`${message} at position ${at + 1}:\n  ${query}\n  ${" ".repeat(at)}^`);
    this.position = at;
    this.pointer = `${query}\n${" ".repeat(at)}^`;
  }
}

/** The closed set of query errors. */
export const QUERY_ERRORS = [QueryError] as const;
