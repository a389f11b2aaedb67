/**
 * Waiting in tests without sleeping: on a promise or a condition, always with a deadline.
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

/**
 * Re-checks `condition` each time the event loop turns until it holds or `timeoutMs`
 * passes. For conditions no event announces (another process's state, a file).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new DeadlineError(`${options.what}: not true within ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
