/**
 * Waiting in tests without sleeping: on a promise, always with a deadline.
 *
 * @module
 */

/** Raised when a wait in a test passes its deadline. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
}

/** Resolves like `promise`, or rejects with `DeadlineError` after `timeoutMs`. */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`${what}: not done within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
