/**
 * Writes as the node executes them: parsed and checked once, at the edge (HTTP, NDJSON, the
 * module API), into typed commands. Past the edge nothing re-checks an index name, an id or a
 * routing key; the node plans the schema, and shards check only what only they can (size,
 * memory).
 *
 * Parsing is a pure function of plain data, so it can run on any isolate.
 *
 * @module
 */

import { InvalidInputError } from "../storage/errors.ts";
import { validateDocId, validateIndexName } from "../storage/names.ts";

/**
 * A put or a delete of one document, checked. `routingKey` places it when given. `stamp` and
 * `version` are set only on a copy of another node's write (a moving slot's stream or dual
 * write, see `WriteRequest`); a client's command never carries them.
 */
export type WriteCommand =
  | {
    readonly op: "put";
    readonly index: string;
    readonly id: string;
    readonly routingKey?: string;
    readonly doc: unknown;
    readonly stamp?: string;
    readonly version?: number;
  }
  | {
    readonly op: "delete";
    readonly index: string;
    readonly id: string;
    readonly routingKey?: string;
    readonly stamp?: string;
    readonly version?: number;
  };

/** One item of a client's batch after parsing: a command, or why it was refused. */
export type ParsedWrite =
  | { readonly ok: true; readonly command: WriteCommand }
  | { readonly ok: false; readonly id: string; readonly error: InvalidInputError };

/** The key that places a write: its routing key, else its id. */
export function placementKey(
  command: { readonly id: string; readonly routingKey?: string },
): string {
  return command.routingKey ?? command.id;
}

function routingKeyOf(id: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new InvalidInputError(`Invalid routing_key for "${id}": a non-empty string is expected`);
  }
  if (!value.isWellFormed()) {
    throw new InvalidInputError(
      `Invalid routing_key for "${id}": it holds a lone surrogate (not well-formed UTF-16)`,
    );
  }
  return value;
}

/**
 * Parses one `{id, routing_key?, doc}` (a put) or `{id, routing_key?}` (a delete) as a client
 * sends it; throws {@linkcode InvalidInputError} for a bad index name, id or routing key.
 *
 * @example
 * ```ts
 * import { parseWrite } from "./write_command.ts";
 * const command = parseWrite("put", "books", { id: "b1", doc: { title: "Rust" } });
 * if (command.id !== "b1") throw new Error("parsed");
 * ```
 */
export function parseWrite(
  op: "put" | "delete",
  index: string,
  input: { readonly id?: unknown; readonly routing_key?: unknown; readonly doc?: unknown },
): WriteCommand {
  validateIndexName(index);
  const id = validateDocId(input.id);
  const routingKey = routingKeyOf(id, input.routing_key);
  const placed = routingKey === undefined ? {} : { routingKey };
  return op === "put" ? { op, index, id, ...placed, doc: input.doc } : { op, index, id, ...placed };
}

/** {@linkcode parseWrite} for one item of a batch: refusals become per-item results. */
export function parseBatchItem(
  op: "put" | "delete",
  index: string,
  item: unknown,
): ParsedWrite {
  const input = typeof item === "object" && item !== null && !Array.isArray(item)
    ? item as Record<string, unknown>
    : op === "delete"
    ? { id: item }
    : {};
  try {
    return { ok: true, command: parseWrite(op, index, input) };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return {
      ok: false,
      id: typeof input.id === "string" ? input.id : String(input.id ?? ""),
      error,
    };
  }
}
