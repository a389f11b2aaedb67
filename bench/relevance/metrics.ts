/**
 * The figures of a known-item run: MRR@10 (the mean of 1/rank of the right answer in the
 * top 10, 0 when it is not there), recall@1 and @10, and latency percentiles.
 *
 * @module
 */

/** Results considered per query. */
export const CUTOFF = 10;

/** What one system answered for every query, and how long each took. */
export interface RunResult {
  /** Per query, the ids returned, best first (at most {@linkcode CUTOFF} are read). */
  readonly rankings: ReadonlyArray<readonly string[]>;
  /** Per query, milliseconds. */
  readonly latenciesMs: readonly number[];
}

/** The figures of a run. */
export interface Figures {
  readonly mrr10: number;
  readonly recall1: number;
  readonly recall10: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p / 100 * sorted.length));
  return sorted[rank - 1]!;
}

/** The figures of `run` against the right answers. */
export function figures(run: RunResult, answers: readonly string[]): Figures {
  let reciprocal = 0;
  let at1 = 0;
  let at10 = 0;
  answers.forEach((answer, q) => {
    const rank = (run.rankings[q] ?? []).slice(0, CUTOFF).indexOf(answer);
    if (rank < 0) return;
    reciprocal += 1 / (rank + 1);
    at10++;
    if (rank === 0) at1++;
  });
  const n = Math.max(1, answers.length);
  return {
    mrr10: reciprocal / n,
    recall1: at1 / n,
    recall10: at10 / n,
    p50Ms: percentile(run.latenciesMs, 50),
    p99Ms: percentile(run.latenciesMs, 99),
  };
}
