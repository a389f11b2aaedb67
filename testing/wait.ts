/**
 * Waiting on a condition that only a question can reveal (another process's state over
 * HTTP): ask again each time the previous answer arrives and was no, until yes or the
 * deadline. Between questions it yields a few milliseconds so a busy server is not flooded.
 *
 * @module
 */

import { DeadlineError } from "./deadline.ts";

/** Resolves with the first truthy answer of `check`; rejects when `timeoutMs` passes first. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const answer = await check();
      if (answer !== undefined && answer !== false) return answer;
      last = answer;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new DeadlineError(`${what} (last answer: ${describe(last)})`);
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
