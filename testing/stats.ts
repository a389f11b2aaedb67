/**
 * The one percentile of the tests, benchmarks and reliability suites.
 *
 * @module
 */

/** The value at fraction `p` of ascending `sorted` (nearest rank, rounding down); 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
