/**
 * Top-k of a disjunction of terms without scoring every match: term-at-a-time MaxScore
 * (Turtle & Flood 1995; the "continue" strategy of Moffat & Zobel 1996).
 *
 * Terms go from the rarest (highest index-wide idf) to the most common. While a
 * document that holds only the terms not yet read could still reach the current k-th best
 * score, a term's whole posting list is read (every document it names becomes a candidate).
 * Once the k-th best score passes the most the remaining terms can add, no new document
 * can enter the top k: the remaining — common — terms are only looked up for the
 * candidates that can still reach the k-th score, through the postings' primary key,
 * instead of reading their long lists. The top k (and their scores) are exactly those of
 * scoring every match; documents left behind keep partial scores below the k-th.
 *
 * @module
 */

import type { Bm25Scorer, PostingsReader, ScoreTable } from "./bm25.ts";
import { type DeadlineCheck, NO_DEADLINE } from "./search_deadline.ts";

/** One term of the disjunction: its field (`null`: every text field) and boost. */
export interface DisjunctTerm {
  readonly field: string | null;
  readonly term: string;
  readonly fields: string[];
  readonly weight: number;
}

/** What MaxScore needs of an engine beyond whole posting lists. */
export interface PrunableSource<K> {
  readonly read: PostingsReader<K>;
  /** Visits the postings of a term for the documents `among` only. */
  readAmong(
    fields: readonly string[],
    term: string,
    among: readonly K[],
    visit: (doc: K, field: number, tf: number, len: number) => void,
  ): void;
  /** The most the term can add to one document's score (tighter than the scorer's bound). */
  bound?(term: DisjunctTerm): number;
}

/** Scores being added up: a `Map`, or a table of the engine's own (`DenseScores`). */
export interface ScoreAccumulator<K> extends ScoreTable<K> {
  readonly size: number;
  entries(): Iterable<[K, number]>;
  values(): Iterable<number>;
  /** The `k`-th highest score (as {@linkcode kthScore}), where the table has a faster way. */
  kth?(k: number): number;
  /** The documents whose `score + rest >= threshold`, where the table has a faster way. */
  reaching?(rest: number, threshold: number): K[];
}

/** The scores of the disjunction's candidates, and whether every match was scored. */
export interface DisjunctScores<K> {
  readonly scores: ScoreAccumulator<K>;
  /** `false` when some terms were read only for candidates (the scores' size is not the total). */
  readonly exhaustive: boolean;
}

/** The `k` highest values added so far, kept ascending once there are `k`. */
class TopValues {
  readonly #k: number;
  readonly #top: number[] = [];

  constructor(k: number) {
    this.#k = k;
  }

  add(score: number): void {
    const top = this.#top;
    const k = this.#k;
    if (top.length < k) {
      top.push(score);
      if (top.length === k) top.sort((a, b) => a - b);
    } else if (score > top[0]!) {
      // Keep `top` ascending: drop the smallest, insert in place.
      let i = 1;
      while (i < k && top[i]! < score) {
        top[i - 1] = top[i]!;
        i++;
      }
      top[i - 1] = score;
    }
  }

  /** The `k`-th highest value (−∞ when fewer than `k` were added). */
  kth(): number {
    return this.#top.length < this.#k ? -Infinity : this.#top[0]!;
  }
}

/** The `k`-th highest value of `scores` (−∞ when there are fewer than `k`). */
export function kthScore(scores: Iterable<number>, k: number): number {
  const top = new TopValues(k);
  for (const score of scores) top.add(score);
  return top.kth();
}

/**
 * Scores the disjunction of `terms` for its top `k`, pruning as MaxScore does; `check` (the
 * search's deadline) runs before each term.
 */
export function maxScoreTopK<K>(
  terms: readonly DisjunctTerm[],
  source: PrunableSource<K>,
  options: {
    readonly scorer: Bm25Scorer;
    readonly k: number;
    readonly scores?: ScoreAccumulator<K>;
    readonly check?: DeadlineCheck;
  },
): DisjunctScores<K> {
  const { scorer, k } = options;
  const check = options.check ?? NO_DEADLINE;
  // Rarest first, by the index-wide idf (then by term): every shard then adds a document's
  // term scores in the same order, so equal documents get bit-equal scores on any shard.
  const bounded = terms.map((term) => ({
    term,
    key: term.weight * scorer.idf(term.field, term.term),
    bound: term.weight * (source.bound?.(term) ?? scorer.maxScore(term.field, term.term)),
  })).sort((a, b) =>
    b.key - a.key || (a.term.term < b.term.term ? -1 : a.term.term > b.term.term ? 1 : 0) ||
    String(a.term.field).localeCompare(String(b.term.field))
  );
  // rest[i]: the most the terms from i on can add to one document.
  const rest = new Array<number>(bounded.length + 1).fill(0);
  for (let i = bounded.length - 1; i >= 0; i--) rest[i] = rest[i + 1]! + bounded[i]!.bound;
  const scores: ScoreAccumulator<K> = options.scores ?? new Map<K, number>();
  let exhaustive = true;
  // Once pruning starts, the candidates that can still reach the k-th score: the next term's
  // are among them (scores of the others stay put, the threshold only rises, what the
  // remaining terms can add only falls), and so are the top k.
  let pool: K[] | undefined;
  for (let i = 0; i < bounded.length; i++) {
    check();
    const { term } = bounded[i]!;
    const threshold = pool !== undefined
      ? kthScore(pool.map((doc) => scores.get(doc)!), k)
      : scores.kth?.(k) ?? kthScore(scores.values(), k);
    if (threshold <= rest[i]!) {
      scorer.addTerm(source.read, term, scores, { weight: term.weight });
      continue;
    }
    exhaustive = false;
    // Only candidates that can still reach the k-th score are looked up.
    const among = pool !== undefined
      ? pool.filter((doc) => scores.get(doc)! + rest[i]! >= threshold)
      : candidatesOf(scores, rest[i]!, threshold);
    pool = among;
    if (among.length === 0) break;
    const reader: PostingsReader<K> = Object.assign(
      (fields: readonly string[], word: string, visit: Parameters<PostingsReader<K>>[2]) =>
        source.readAmong(fields, word, among, visit),
      { grouped: source.read.grouped === true },
    );
    scorer.addTerm(reader, term, scores, { weight: term.weight });
  }
  return { scores, exhaustive };
}

/** The documents whose `score + rest >= threshold`. */
function candidatesOf<K>(scores: ScoreAccumulator<K>, rest: number, threshold: number): K[] {
  if (scores.reaching !== undefined) return scores.reaching(rest, threshold);
  const among: K[] = [];
  for (const [doc, score] of scores.entries()) if (score + rest >= threshold) among.push(doc);
  return among;
}

/**
 * Scores of documents numbered `0…capacity-1` in a typed array (absent: NaN), with the list
 * of those set: a posting costs two array accesses instead of a `Map`'s hashing. Reused
 * across searches (`reset` clears only what was set).
 */
export class DenseScores implements ScoreAccumulator<number> {
  #scores: Float64Array;
  #touched: number[] = [];

  constructor(capacity: number) {
    this.#scores = new Float64Array(capacity).fill(NaN);
  }

  /** How many documents it can hold. */
  get capacity(): number {
    return this.#scores.length;
  }

  get size(): number {
    return this.#touched.length;
  }

  get(doc: number): number | undefined {
    const score = this.#scores[doc]!;
    return Number.isNaN(score) ? undefined : score;
  }

  set(doc: number, score: number): void {
    if (Number.isNaN(this.#scores[doc]!)) this.#touched.push(doc);
    this.#scores[doc] = score;
  }

  *entries(): Generator<[number, number]> {
    for (const doc of this.#touched) yield [doc, this.#scores[doc]!];
  }

  *values(): Generator<number> {
    for (const doc of this.#touched) yield this.#scores[doc]!;
  }

  /** The `k`-th highest score, walking the array (no generator: this runs once a term). */
  kth(k: number): number {
    const top = new TopValues(k);
    const scores = this.#scores;
    for (const doc of this.#touched) top.add(scores[doc]!);
    return top.kth();
  }

  reaching(rest: number, threshold: number): number[] {
    const among: number[] = [];
    const scores = this.#scores;
    for (const doc of this.#touched) if (scores[doc]! + rest >= threshold) among.push(doc);
    return among;
  }

  /** Forgets every score (only those set are cleared). */
  reset(): void {
    for (const doc of this.#touched) this.#scores[doc] = NaN;
    this.#touched = [];
  }
}
