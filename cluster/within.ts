/**
 * A promise with a deadline: the one timeout helper of the cluster layer.
 *
 * @module
 */

/** Settles like `work`, or rejects with `timeoutError()` after `timeoutMs`. */
export function within<T>(
  work: Promise<T>,
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
