/**
 * Checking the body of `POST /_keys`: `{"description"?, "actions", "indexes", "expires_at"?}`.
 *
 * @module
 */

import { type Action, ACTIONS, isAction } from "./actions.ts";
import { KeyRequestError } from "./errors.ts";

/** Longest description, in characters. */
export const MAX_DESCRIPTION_CHARS = 256;
/** Most index patterns one key may list. */
export const MAX_PATTERNS_PER_KEY = 100;
/** Longest index pattern, in characters. */
export const MAX_PATTERN_CHARS = 256;

/** A checked key request. */
export interface KeyRequest {
  readonly description: string;
  readonly actions: readonly Action[];
  readonly indexes: readonly string[];
  /** ISO 8601 instant, or null for a key that never expires. */
  readonly expires_at: string | null;
}

const FIELDS = new Set(["description", "actions", "indexes", "expires_at"]);
const PATTERN = /^[A-Za-z0-9_.*-]+$/;

/** Checks a key request; throws `KeyRequestError` saying what is wrong. */
export function parseKeyRequest(body: unknown, nowMs: number): KeyRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new KeyRequestError("a key request must be a JSON object");
  }
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw new KeyRequestError(`unknown field(s) ${unknown.map((k) => `"${k}"`).join(", ")}`);
  }
  const description = input.description ?? "";
  if (typeof description !== "string" || description.length > MAX_DESCRIPTION_CHARS) {
    throw new KeyRequestError(
      `"description" must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`,
    );
  }
  return {
    description,
    actions: checkActions(input.actions),
    indexes: checkIndexes(input.indexes),
    expires_at: checkExpiry(input.expires_at, nowMs),
  };
}

function checkActions(value: unknown): Action[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new KeyRequestError(`"actions" must be a non-empty list of ${ACTIONS.join(", ")}`);
  }
  for (const action of value) {
    if (!isAction(action)) {
      throw new KeyRequestError(
        `unknown action ${JSON.stringify(action)}; actions are ${ACTIONS.join(", ")}`,
      );
    }
  }
  return [...new Set(value as Action[])];
}

function checkIndexes(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PATTERNS_PER_KEY) {
    throw new KeyRequestError(
      `"indexes" must be a list of 1 to ${MAX_PATTERNS_PER_KEY} index names or patterns ` +
        `("books", "logs-*", "*")`,
    );
  }
  for (const pattern of value) {
    if (
      typeof pattern !== "string" || pattern.length > MAX_PATTERN_CHARS || !PATTERN.test(pattern)
    ) {
      throw new KeyRequestError(
        `index pattern ${JSON.stringify(pattern)} must be 1 to ${MAX_PATTERN_CHARS} ` +
          "characters of letters, digits, _ . - and *",
      );
    }
  }
  return [...new Set(value as string[])];
}

function checkExpiry(value: unknown, nowMs: number): string | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new KeyRequestError(
      `"expires_at" must be an ISO 8601 date and time or null, got ${JSON.stringify(value)}`,
    );
  }
  if (ms <= nowMs) throw new KeyRequestError(`"expires_at" ${value} is not in the future`);
  return new Date(ms).toISOString();
}
