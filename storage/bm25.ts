/**
 * One BM25 for every engine, shard and node: the statistics a score needs (plain data that
 * adds up across shards and nodes), the scoring leaves of a plan, and the scorer over an
 * engine's own postings.
 *
 * A term over several fields (a bare word searches every text field) is scored once, BM25F
 * style (Robertson & Zaragoza): its frequency in each field is normalized by that field's
 * length against the field's average, the normalized frequencies are added, and the sum is
 * saturated once:
 *
 *     tf~ = Σ_f w(f) · tf(d, f) / (1 − b + b · len(d, f) / avglen(f))
 *     score = idf(t) · tf~ · (k1 + 1) / (tf~ + k1)
 *     idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))      (Lucene's BM25 idf)
 *
 * with `w(f)` the field's boost (1 unless the index's ranking sets one), `N` the documents of the index, `df(t)` the documents holding `t` in any of the
 * fields, and both counted index-wide ({@linkcode CorpusStats}): a document scores the same
 * whichever shard or node holds it.
 *
 * Phrases score as the sum of their terms' scores, over the documents that hold the phrase;
 * prefixes score a constant 1 (as Lucene's constant-score rewrite); a fuzzy term scores as
 * the best of its expansions.
 *
 * @module
 */

import type { Plan } from "./search_index.ts";
import { type DeadlineCheck, NO_DEADLINE } from "./search_deadline.ts";

/**
 * BM25's parameters: term-frequency saturation `k1`, length normalization `b`, and per text
 * field a boost — the weight of its normalized frequency in BM25F's sum (1 when absent).
 */
export interface Bm25Params {
  readonly k1: number;
  readonly b: number;
  /** `[field, boost]` pairs. */
  readonly boosts?: ReadonlyArray<readonly [string, number]>;
}

/** Lucene's and Elasticsearch's defaults. */
export const DEFAULT_BM25: Bm25Params = { k1: 1.2, b: 0.75 };

/** The score of a document matching a prefix leaf (before boosts). */
export const PREFIX_SCORE = 1;

/**
 * Index-wide statistics of one query's terms: plain data (MessagePack, JSON), added up
 * across shards and nodes by {@linkcode addStats}. Lists of pairs rather than records, so
 * that no field name or term can collide with an object's own keys.
 */
export interface CorpusStats {
  /** Documents in the index. */
  readonly docCount: number;
  /** Per text field: `[field, documents with the field, tokens in the field]`. */
  readonly fields: ReadonlyArray<readonly [string, number, number]>;
  /** Per {@linkcode termKey}: documents holding the term (in any of its fields). */
  readonly docFreqs: ReadonlyArray<readonly [string, number]>;
}

/** The key of a term's document frequency: its field (`null`: every text field) and term. */
export function termKey(field: string | null, term: string): string {
  return JSON.stringify([field, term]);
}

/** The sum of several shards' (or nodes') statistics. */
export function addStats(parts: readonly CorpusStats[]): CorpusStats {
  let docCount = 0;
  const fields = new Map<string, [number, number]>();
  const docFreqs = new Map<string, number>();
  for (const part of parts) {
    docCount += part.docCount;
    for (const [field, docs, tokens] of part.fields) {
      const sum = fields.get(field) ?? [0, 0];
      fields.set(field, [sum[0] + docs, sum[1] + tokens]);
    }
    for (const [key, df] of part.docFreqs) docFreqs.set(key, (docFreqs.get(key) ?? 0) + df);
  }
  return {
    docCount,
    fields: [...fields].map(([field, [docs, tokens]]) => [field, docs, tokens] as const),
    docFreqs: [...docFreqs],
  };
}

/** A scoring leaf of a plan (not under a `not`), with the product of the boosts above it. */
export type ScoringLeaf =
  | { readonly kind: "term"; readonly field: string | null; readonly term: string; weight: number }
  | {
    readonly kind: "phrase";
    readonly plan: Extract<Plan, { kind: "phrase" }>;
    readonly weight: number;
  }
  | {
    readonly kind: "prefix";
    readonly plan: Extract<Plan, { kind: "prefix" }>;
    readonly weight: number;
  }
  | {
    readonly kind: "fuzzy";
    readonly plan: Extract<Plan, { kind: "fuzzy" }>;
    readonly weight: number;
  };

/** Every scoring leaf of a plan, in plan order. All of them score (no cap on their number). */
export function scoringLeavesOf(plan: Plan, weight = 1): ScoringLeaf[] {
  if (weight === 0) return [];
  switch (plan.kind) {
    case "term":
      return [{ kind: "term", field: plan.field, term: plan.term, weight }];
    case "phrase":
    case "prefix":
    case "fuzzy":
      return [{ kind: plan.kind, plan, weight } as ScoringLeaf];
    case "and":
    case "or":
      return plan.children.flatMap((child) => scoringLeavesOf(child, weight));
    case "boost":
      return scoringLeavesOf(plan.child, weight * plan.factor);
    case "rank":
      return [plan.match, ...plan.optional].flatMap((child) => scoringLeavesOf(child, weight));
    default:
      return [];
  }
}

/**
 * The `(field, term)` pairs whose document frequency a plan's score needs; fuzzy leaves
 * need their expansions, which only the engine knows (`expand`).
 */
export function statTerms(
  plan: Plan,
  expand: (leaf: Extract<Plan, { kind: "fuzzy" }>) => readonly string[],
): Array<{ field: string | null; term: string }> {
  const seen = new Map<string, { field: string | null; term: string }>();
  const add = (field: string | null, term: string) =>
    seen.set(termKey(field, term), { field, term });
  for (const leaf of scoringLeavesOf(plan)) {
    if (leaf.kind === "term") add(leaf.field, leaf.term);
    else if (leaf.kind === "phrase") {
      for (const term of leaf.plan.terms) add(leaf.plan.field, term);
    } else if (leaf.kind === "fuzzy") {
      for (const term of expand(leaf.plan)) add(leaf.plan.field, term);
    }
  }
  return [...seen.values()];
}

/**
 * Calls `visit(doc, field, tf, len)` for every (document, field) holding `term`. A reader
 * marked `grouped` visits a document's fields one after another (then no per-term map is
 * needed to add them up).
 */
export type PostingsReader<K> =
  & ((
    fields: readonly string[],
    term: string,
    visit: (doc: K, field: number, tf: number, len: number) => void,
  ) => void)
  & { readonly grouped?: boolean };

/** What the scorer adds scores into: a `Map`, or a table of the engine's own. */
export interface ScoreTable<K> {
  get(doc: K): number | undefined;
  set(doc: K, score: number): void;
}

/** BM25 over index-wide statistics: the per-term scores of one query. */
export class Bm25Scorer {
  readonly #params: Bm25Params;
  readonly #docCount: number;
  readonly #avgLength = new Map<string, number>();
  readonly #docFreqs: Map<string, number>;
  readonly #boosts: Map<string, number>;

  constructor(stats: CorpusStats, params: Bm25Params = DEFAULT_BM25) {
    this.#params = params;
    this.#boosts = new Map(params.boosts ?? []);
    this.#docCount = stats.docCount;
    for (const [field, docs, tokens] of stats.fields) {
      this.#avgLength.set(field, docs === 0 || tokens === 0 ? 1 : tokens / docs);
    }
    this.#docFreqs = new Map(stats.docFreqs);
  }

  /** Lucene's BM25 idf of a term (its field `null`: every text field). */
  idf(field: string | null, term: string): number {
    const df = Math.max(1, this.#docFreqs.get(termKey(field, term)) ?? 1);
    const n = Math.max(this.#docCount, df);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** The highest score one document can get from the term (tf~ → ∞). */
  maxScore(field: string | null, term: string): number {
    return this.idf(field, term) * (this.#params.k1 + 1);
  }

  /**
   * The most a term can add to one document (before boosts), given per field the highest
   * frequency and the shortest length among its postings (`undefined`: not in that field).
   */
  bound(
    term: { readonly field: string | null; readonly term: string; readonly fields: string[] },
    perField: ReadonlyArray<{ maxTf: number; minLen: number } | undefined>,
  ): number {
    const { k1, b } = this.#params;
    let tf = 0;
    term.fields.forEach((field, i) => {
      const stat = perField[i];
      if (stat === undefined) return;
      const norm = 1 - b + b * stat.minLen / (this.#avgLength.get(field) ?? 1);
      tf += (this.#boosts.get(field) ?? 1) * stat.maxTf / norm;
    });
    return this.idf(term.field, term.term) * (k1 + 1) * tf / (tf + k1);
  }

  /**
   * Adds `weight` × the BM25F score of `term` over `fields` to `scores`, for every document
   * the postings name (and, with `only`, that `only` holds); `combine` says how a document's
   * existing score and the term's meet (added, or the better kept).
   */
  addTerm<K>(
    read: PostingsReader<K>,
    term: { readonly field: string | null; readonly term: string; readonly fields: string[] },
    scores: ScoreTable<K>,
    options: { weight: number; only?: ReadonlySet<K>; combine?: "add" | "max" },
  ): void {
    const { k1, b } = this.#params;
    const averages = term.fields.map((field) => this.#avgLength.get(field) ?? 1);
    const boosts = term.fields.map((field) => this.#boosts.get(field) ?? 1);
    const factor = options.weight * this.idf(term.field, term.term) * (k1 + 1);
    const max = options.combine === "max";
    const flush = (doc: K, tf: number) => {
      const score = factor * tf / (tf + k1);
      const before = scores.get(doc);
      if (before === undefined) scores.set(doc, score);
      else scores.set(doc, max ? Math.max(before, score) : before + score);
    };
    const only = options.only;
    if (read.grouped === true) {
      let last: K | undefined;
      let sum = 0;
      read(term.fields, term.term, (doc, field, tf, len) => {
        if (only !== undefined && !only.has(doc)) return;
        if (doc !== last) {
          if (last !== undefined) flush(last, sum);
          last = doc;
          sum = 0;
        }
        sum += boosts[field]! * tf / (1 - b + b * len / averages[field]!);
      });
      if (last !== undefined) flush(last, sum);
      return;
    }
    const normalized = new Map<K, number>();
    read(term.fields, term.term, (doc, field, tf, len) => {
      if (only !== undefined && !only.has(doc)) return;
      const norm = 1 - b + b * len / averages[field]!;
      normalized.set(doc, (normalized.get(doc) ?? 0) + boosts[field]! * tf / norm);
    });
    for (const [doc, tf] of normalized) flush(doc, tf);
  }
}

/** What scoring needs of an engine: its postings, fields, statistics and leaf matches. */
export interface RankingSource<K> {
  /** The fields a leaf searches: its own, or every text field (`null`). */
  fieldsOf(field: string | null): string[];
  /** Visits the postings of a term over fields (indexes into `fields` in the callback). */
  readonly read: PostingsReader<K>;
  /** Documents holding a term in any of `fields`. */
  docFreq(fields: readonly string[], term: string): number;
  /** Documents in the index, and per text field `[field, documents, tokens]`. */
  corpus(): { docCount: number; fields: Array<readonly [string, number, number]> };
  /** The expansions of a fuzzy leaf against the vocabulary (closest first). */
  expand(leaf: Extract<Plan, { kind: "fuzzy" }>): readonly string[];
  /** The documents matching a phrase or prefix leaf. */
  matches(leaf: Extract<Plan, { kind: "phrase" | "prefix" }>): ReadonlySet<K>;
}

/**
 * This index's own statistics for a plan's terms (one shard's part of the whole), checking
 * the deadline between terms.
 */
export function localStats<K>(
  plan: Plan,
  source: RankingSource<K>,
  check: DeadlineCheck = NO_DEADLINE,
): CorpusStats {
  const corpus = source.corpus();
  const docFreqs = statTerms(plan, (leaf) => source.expand(leaf)).map(({ field, term }) => {
    check();
    return [termKey(field, term), source.docFreq(source.fieldsOf(field), term)] as const;
  });
  return { docCount: corpus.docCount, fields: corpus.fields, docFreqs };
}

/**
 * The score of every document matching any scoring leaf of `plan` (the caller keeps those
 * that match the whole plan), over `stats` — the index-wide statistics, or this index's own;
 * the deadline is checked between leaves and a fuzzy leaf's expansions.
 */
export function scorePlan<K>(
  plan: Plan,
  source: RankingSource<K>,
  options: {
    readonly stats: CorpusStats;
    readonly params?: Bm25Params;
    readonly check?: DeadlineCheck;
  },
): Map<K, number> {
  const scorer = new Bm25Scorer(options.stats, options.params ?? DEFAULT_BM25);
  const check = options.check ?? NO_DEADLINE;
  const scores = new Map<K, number>();
  for (const leaf of scoringLeavesOf(plan)) {
    check();
    switch (leaf.kind) {
      case "term":
        scorer.addTerm(
          source.read,
          {
            field: leaf.field,
            term: leaf.term,
            fields: source.fieldsOf(leaf.field),
          },
          scores,
          { weight: leaf.weight },
        );
        break;
      case "phrase": {
        const only = source.matches(leaf.plan);
        if (only.size === 0) break;
        const fields = source.fieldsOf(leaf.plan.field);
        for (const term of new Set(leaf.plan.terms)) {
          scorer.addTerm(source.read, { field: leaf.plan.field, term, fields }, scores, {
            weight: leaf.weight,
            only,
          });
        }
        break;
      }
      case "prefix":
        for (const doc of source.matches(leaf.plan)) {
          scores.set(doc, (scores.get(doc) ?? 0) + leaf.weight * PREFIX_SCORE);
        }
        break;
      case "fuzzy": {
        const best = new Map<K, number>();
        const fields = source.fieldsOf(leaf.plan.field);
        for (const term of source.expand(leaf.plan)) {
          check();
          scorer.addTerm(source.read, { field: leaf.plan.field, term, fields }, best, {
            weight: leaf.weight,
            combine: "max",
          });
        }
        for (const [doc, score] of best) scores.set(doc, (scores.get(doc) ?? 0) + score);
        break;
      }
    }
  }
  return scores;
}

/**
 * The terms of a plan that is only a disjunction of (boosted) terms — what a natural-language
 * query compiles to — with their boosts; `undefined` for any other plan.
 */
export function disjunctionTerms(
  plan: Plan,
  weight = 1,
): Array<{ field: string | null; term: string; weight: number }> | undefined {
  switch (plan.kind) {
    case "term":
      return weight === 0 ? [] : [{ field: plan.field, term: plan.term, weight }];
    case "boost":
      return disjunctionTerms(plan.child, weight * plan.factor);
    case "or": {
      const terms = plan.children.map((child) => disjunctionTerms(child, weight));
      return terms.some((list) => list === undefined) ? undefined : terms.flatMap((t) => t!);
    }
    default:
      return undefined;
  }
}
