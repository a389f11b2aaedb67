/**
 * A lock held across test files and processes (an `flock` on a file in the temp directory,
 * released by the kernel if the holder dies): tests that start several server processes and
 * measure latencies take it, so two of them never share the machine's cores at once — the
 * suite runs files in parallel, and a hung-node p99 measured while another three-node test
 * starts says more about that test than about the one measuring.
 *
 * @module
 */

/** Runs `fn` holding the machine-wide lock `name`. */
export async function withMachineLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const path = `${Deno.env.get("TMPDIR") ?? "/tmp"}/cameodb-test-${name}.lock`;
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
