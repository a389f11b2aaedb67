/**
 * Rules for index names and document ids.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

const INDEX_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Longest document id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;

/**
 * Checks an index name: lowercase letters, digits, `-` and `_`, 1–64 characters, not
 * starting with `_` or `-`.
 */
export function validateIndexName(name: unknown): string {
  if (typeof name !== "string" || !INDEX_NAME.test(name)) {
    throw new InvalidInputError(
      `Invalid index name ${JSON.stringify(name)}: use 1-64 lowercase letters, digits, "-" ` +
        `or "_", not starting with "_" or "-"`,
    );
  }
  return name;
}

/**
 * Checks a document id: a non-empty string of at most 512 UTF-8 bytes without control
 * characters (U+0000–U+001F, U+007F), which would break URLs, logs and line formats, and
 * well-formed UTF-16 (no lone surrogates).
 */
export function validateDocId(id: unknown): string {
  if (id === undefined) {
    throw new InvalidInputError(`No document id: an "id" (a non-empty string) is required`);
  }
  if (typeof id !== "string" || id === "") {
    throw new InvalidInputError(
      `Invalid document id ${JSON.stringify(id)}: ids are non-empty strings`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) {
    throw new InvalidInputError(
      `Invalid document id ${JSON.stringify(id)}: ids may not contain control characters`,
    );
  }
  if (!id.isWellFormed()) {
    // A lone surrogate has no UTF-8 form: encoded it becomes U+FFFD, and every such id
    // would land on one document.
    throw new InvalidInputError(
      `Invalid document id ${JSON.stringify(id)}: ids must be well-formed Unicode ` +
        `(no lone surrogates such as \\ud800)`,
    );
  }
  const bytes = new TextEncoder().encode(id).length;
  if (bytes > MAX_ID_BYTES) {
    throw new InvalidInputError(
      `Invalid document id: ${bytes} bytes, at most ${MAX_ID_BYTES} are allowed`,
    );
  }
  return id;
}
