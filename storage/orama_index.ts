/**
 * The `orama` engine: an in-memory Orama 3 database per (microshard, index), for small,
 * hot indexes (and, later, vector search).
 *
 * Orama ranks text (BM25); the engine keeps beside it each document's terms per field and
 * its typed values, which it uses to
 * - keep term matching exact: Orama matches prefixes by default and its `exact` option is a
 *   case-sensitive substring test, so Orama's candidates are checked against the terms;
 * - evaluate filters (`eq`, `range`) and boolean structure in plain code, avoiding Orama's
 *   `where` traps (a `not` that returns removed ids; keys beside `and`/`or` ignored);
 * - rebuild the Orama database when a new text field needs a property (Orama's schema is
 *   fixed at creation) — at most once per applied batch.
 *
 * Text is pre-tokenized by the shared tokenizer, so both engines agree on terms. Orama's
 * sorter is disabled (`sort: { enabled: false }`): with it an update costs ~60 ms at 100k
 * documents. The index is not durable: on open it is rebuilt from KV (restoring an Orama
 * snapshot of 100k documents takes ~15 s and ~3.8 GB; a rebuild is cheaper).
 *
 * @module
 */

// A full specifier (not the import map's "@orama/orama"), so that a project importing mod.ts by
// path, without this repository's deno.json, resolves it (tested by tests/import_test.ts).
// deno-lint-ignore no-import-prefix
import { create, insertMultiple, type Orama, remove } from "npm:@orama/orama@3.1.18";
import {
  Bm25Scorer,
  type CorpusStats,
  disjunctionTerms,
  localStats,
  type RankingSource,
  scorePlan,
} from "./bm25.ts";
import { maxScoreTopK } from "./max_score.ts";
import type { Schema } from "./schema.ts";
import { scalarOf } from "./schema.ts";
import type {
  FacetCounts,
  FacetSpec,
  IndexOp,
  Plan,
  PlanValue,
  SchemaChange,
  SearchIndex,
  SearchOptions,
  SearchResult,
} from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";
import { topHits } from "./top_hits.ts";
import { expandFuzzy } from "./edit_distance.ts";
import { phraseInTokens } from "./phrase_slop.ts";
import { type DeadlineCheck, deadlineCheck, NO_DEADLINE } from "./search_deadline.ts";
import {
  MAX_FACET_VALUE_LENGTH,
  MAX_FACET_VALUES_PER_SHARD,
  MAX_FUZZY_EXPANSIONS,
} from "./search_index.ts";

/**
 * The estimate of the bytes a document takes here, per part: a base, per UTF-16 unit of its
 * id and of its tokenized text, per token (its set entry), per non-text value.
 */
const ESTIMATED_BYTES = { docBase: 64, perIdUnit: 2, perTextUnit: 4, perToken: 8, perValue: 16 };
/** Orama's own structures, as a multiple of the terms and values kept here (see memoryBytes). */
const ORAMA_BYTES_PER_KEPT_BYTE = 4;

interface StoredDoc {
  /** Terms per text field. */
  readonly terms: Map<string, Set<string>>;
  /** Tokenized text per text field, repetitions kept (they count in BM25). */
  readonly texts: Map<string, string>;
  /** Tokens per text field (BM25's field length). */
  readonly lengths: Map<string, number>;
  /** Exact values per non-text field (numbers, dates as ms, booleans, strings). */
  readonly values: Map<string, PlanValue[]>;
  /** Approximate bytes held for this document. */
  readonly bytes: number;
}

// deno-lint-ignore no-explicit-any
type AnyOrama = Orama<any>;

/** A search index in Orama, in memory. */
export class OramaIndex implements SearchIndex {
  readonly engine = "orama" as const;
  readonly durable = false;
  #docs = new Map<string, StoredDoc>();
  #properties = new Map<string, string>();
  #textArrays = new Set<string>();
  #db: AnyOrama;
  /** Per text field, per term: the documents holding it and how often (for BM25). */
  #postings = new Map<string, Map<string, Map<string, number>>>();
  /** Per text field: documents with it, tokens in it. */
  #fieldStats = new Map<string, { docs: number; tokens: number }>();
  /**
   * Per term: the documents holding it in any text field — a bare word's document frequency,
   * asked for every query term (counting a union of the fields' postings per query was a
   * tenth of a search's time, profiled).
   */
  #anyFieldDocs = new Map<string, number>();
  #applied = 0;
  #bytes = 0;
  /** The running search's deadline, checked at every plan node (`#evaluate`). */
  #check: DeadlineCheck = NO_DEADLINE;

  /** Creates an empty index for `schema`. */
  constructor(schema: Schema) {
    this.#setProperties(schema);
    this.#db = this.#createDb();
  }

  #setProperties(schema: Schema): void {
    this.#textArrays = new Set(
      Object.keys(schema.fields).filter((path) => schema.fields[path]!.type === "text[]"),
    );
    const textFields = Object.keys(schema.fields)
      .filter((path) => scalarOf(schema.fields[path]!.type) === "text").sort();
    this.#properties = new Map(textFields.map((path, i) => [path, `p${i}`]));
  }

  #createDb(): AnyOrama {
    const schema: Record<string, "string"> = {};
    for (const property of this.#properties.values()) schema[property] = "string";
    // Orama needs at least one property.
    if (this.#properties.size === 0) schema.p_ = "string";
    return create({
      schema,
      components: { tokenizer: { stemming: false, stopWords: false } },
      sort: { enabled: false },
    });
  }

  #oramaDoc(id: string, doc: StoredDoc): Record<string, string> {
    const record: Record<string, string> = { id };
    for (const [path, text] of doc.texts) {
      const property = this.#properties.get(path);
      if (property !== undefined) record[property] = text;
    }
    return record;
  }

  appliedSeq(): number {
    return this.#applied;
  }

  updateSchema(schema: Schema): SchemaChange {
    const known = Object.keys(schema.fields)
      .filter((path) => scalarOf(schema.fields[path]!.type) === "text")
      .every((path) => this.#properties.has(path));
    if (known) return "ok";
    // New text properties: rebuild the Orama database from the documents held here.
    this.#setProperties(schema);
    this.#db = this.#createDb();
    insertMultiple(this.#db, [...this.#docs].map(([id, doc]) => this.#oramaDoc(id, doc)));
    return "ok";
  }

  reset(schema: Schema, seq: number): void {
    this.#docs.clear();
    this.#postings.clear();
    this.#fieldStats.clear();
    this.#anyFieldDocs.clear();
    this.#bytes = 0;
    this.#setProperties(schema);
    this.#db = this.#createDb();
    this.#applied = seq;
  }

  apply(ops: readonly IndexOp[], seq: number): void {
    const inserts: Array<Record<string, string>> = [];
    for (const op of ops) {
      const existing = this.#docs.get(op.id);
      if (existing !== undefined) {
        // A put of the same id earlier in this batch is still waiting to be inserted.
        const pending = inserts.findIndex((doc) => doc.id === op.id);
        if (pending >= 0) inserts.splice(pending, 1);
        else remove(this.#db, op.id);
        this.#docs.delete(op.id);
        this.#unpost(op.id, existing);
        this.#bytes -= existing.bytes;
      }
      if (op.op === "delete") continue;
      const terms = new Map<string, Set<string>>();
      const texts = new Map<string, string>();
      const lengths = new Map<string, number>();
      const values = new Map<string, PlanValue[]>();
      let bytes = ESTIMATED_BYTES.docBase + op.id.length * ESTIMATED_BYTES.perIdUnit;
      for (const value of op.values) {
        if (value.type === "text") {
          const tokens = value.values.flatMap((text) => tokenize(String(text)));
          const text = tokens.join(" ");
          terms.set(value.path, new Set(tokens));
          texts.set(value.path, text);
          lengths.set(value.path, tokens.length);
          // Elements of text arrays (tags) are also kept whole, for facets.
          const whole = value.values.map(String).filter((v) => v.length <= MAX_FACET_VALUE_LENGTH);
          if (this.#textArrays.has(value.path) && whole.length > 0) values.set(value.path, whole);
          bytes += text.length * ESTIMATED_BYTES.perTextUnit +
            tokens.length * ESTIMATED_BYTES.perToken;
        } else if (value.type !== "json") {
          values.set(value.path, [...value.values]);
          bytes += ESTIMATED_BYTES.perValue * value.values.length;
        }
      }
      const doc: StoredDoc = { terms, texts, lengths, values, bytes };
      this.#docs.set(op.id, doc);
      this.#post(op.id, doc);
      this.#bytes += bytes;
      inserts.push(this.#oramaDoc(op.id, doc));
    }
    if (inserts.length > 0) insertMultiple(this.#db, inserts);
    this.#applied = seq;
  }

  /** Adds a document's terms to the postings and its field lengths to the statistics. */
  #post(id: string, doc: StoredDoc): void {
    for (const term of distinctTerms(doc)) {
      this.#anyFieldDocs.set(term, (this.#anyFieldDocs.get(term) ?? 0) + 1);
    }
    for (const [path, text] of doc.texts) {
      const length = doc.lengths.get(path) ?? 0;
      if (length === 0) continue;
      let byTerm = this.#postings.get(path);
      if (byTerm === undefined) this.#postings.set(path, byTerm = new Map());
      for (const term of text.split(" ")) {
        let docs = byTerm.get(term);
        if (docs === undefined) byTerm.set(term, docs = new Map());
        docs.set(id, (docs.get(id) ?? 0) + 1);
      }
      const stats = this.#fieldStats.get(path) ?? { docs: 0, tokens: 0 };
      this.#fieldStats.set(path, { docs: stats.docs + 1, tokens: stats.tokens + length });
    }
  }

  /** Takes a document out of the postings and the statistics. */
  #unpost(id: string, doc: StoredDoc): void {
    for (const term of distinctTerms(doc)) {
      const count = (this.#anyFieldDocs.get(term) ?? 0) - 1;
      if (count > 0) this.#anyFieldDocs.set(term, count);
      else this.#anyFieldDocs.delete(term);
    }
    for (const [path, terms] of doc.terms) {
      const length = doc.lengths.get(path) ?? 0;
      if (length === 0) continue;
      const byTerm = this.#postings.get(path);
      for (const term of terms) {
        const docs = byTerm?.get(term);
        docs?.delete(id);
        if (docs?.size === 0) byTerm!.delete(term);
      }
      const stats = this.#fieldStats.get(path);
      if (stats !== undefined) {
        this.#fieldStats.set(path, { docs: stats.docs - 1, tokens: stats.tokens - length });
      }
    }
  }

  search(plan: Plan, options: SearchOptions): SearchResult {
    this.#check = deadlineCheck(options.deadlineAtMs);
    try {
      this.#check();
      return this.#search(plan, options);
    } finally {
      this.#check = NO_DEADLINE;
    }
  }

  #search(plan: Plan, options: SearchOptions): SearchResult {
    const check = this.#check;
    const terms = disjunctionTerms(plan);
    if (terms !== undefined && (options.sort ?? []).length === 0 && options.limit > 0) {
      return this.#searchDisjunction(terms, plan, options);
    }
    const matched = this.#evaluate(plan);
    if (options.limit <= 0 || matched.size === 0) return { total: matched.size, hits: [] };
    const source = this.#rankingSource();
    const stats = options.stats ?? localStats(plan, source, check);
    const scores = scorePlan(plan, source, {
      stats,
      check,
      ...(options.ranking === undefined ? {} : { params: options.ranking }),
    });
    const sort = options.sort ?? [];
    const hits = [...matched].map((id) => {
      const hit = { id, score: scores.get(id) ?? 0 };
      if (sort.length === 0) return hit;
      const values = this.#docs.get(id)!.values;
      return {
        ...hit,
        sortValues: sort.map((spec) => {
          const list = values.get(spec.field);
          if (list === undefined || list.length === 0) return null;
          return list.reduce((a, b) => (spec.order === "asc" ? (b < a ? b : a) : (b > a ? b : a)));
        }),
      };
    });
    return { total: hits.length, hits: topHits(hits, options) };
  }

  /** A disjunction of terms (no sort): MaxScore over the postings, as the fts5 engine does. */
  #searchDisjunction(
    terms: ReadonlyArray<{ field: string | null; term: string; weight: number }>,
    plan: Plan,
    options: SearchOptions,
  ): SearchResult {
    const source = this.#rankingSource();
    const check = this.#check;
    const scorer = new Bm25Scorer(
      options.stats ?? localStats(plan, source, check),
      options.ranking,
    );
    const disjuncts = terms.map((term) => ({ ...term, fields: this.#fieldsOf(term.field) }));
    const { scores, exhaustive } = maxScoreTopK(disjuncts, {
      read: source.read,
      readAmong: (fields, term, among, visit) => {
        fields.forEach((field, i) => {
          const docs = this.#postings.get(field)?.get(term);
          if (docs === undefined) return;
          for (const id of among) {
            const tf = docs.get(id);
            if (tf !== undefined) visit(id, i, tf, this.#docs.get(id)?.lengths.get(field) ?? 1);
          }
        });
      },
    }, { scorer, k: options.offset + options.limit, check });
    let total = scores.size;
    if (!exhaustive) {
      const matched = new Set<string>();
      for (const { fields, term } of disjuncts) {
        for (const id of this.#termDocs(fields, [term])) matched.add(id);
      }
      total = matched.size;
    }
    const hits = [...scores.entries()].map(([id, score]) => ({ id, score }));
    return { total, hits: topHits(hits, options) };
  }

  stats(plan: Plan, options: { readonly deadlineAtMs?: number } = {}): CorpusStats {
    const check = deadlineCheck(options.deadlineAtMs);
    check();
    return localStats(plan, this.#rankingSource(), check);
  }

  /** The engine's postings, statistics and leaf matches, for `bm25.ts`. */
  #rankingSource(): RankingSource<string> {
    return {
      fieldsOf: (field) => this.#fieldsOf(field),
      read: (fields, term, visit) => {
        fields.forEach((field, i) => {
          for (const [id, tf] of this.#postings.get(field)?.get(term) ?? []) {
            visit(id, i, tf, this.#docs.get(id)?.lengths.get(field) ?? 1);
          }
        });
      },
      docFreq: (fields, term) => {
        if (fields.length === 1) return this.#postings.get(fields[0]!)?.get(term)?.size ?? 0;
        const everyField = fields.length === this.#properties.size &&
          fields.every((field) => this.#properties.has(field));
        if (everyField) return this.#anyFieldDocs.get(term) ?? 0;
        return this.#termDocs(fields, [term]).size;
      },
      corpus: () => ({
        docCount: this.#docs.size,
        // A field whose every document was deleted keeps its entry at 0: not a statistic.
        fields: [...this.#fieldStats].filter(([, { docs }]) => docs > 0)
          .map(([field, { docs, tokens }]) => [field, docs, tokens] as const),
      }),
      expand: (leaf) => this.#expand(leaf),
      matches: (leaf) => this.#evaluate(leaf),
    };
  }

  /** The fields a leaf searches: its own, or every text field. */
  #fieldsOf(field: string | null): string[] {
    if (field === null) return [...this.#properties.keys()];
    return this.#properties.has(field) ? [field] : [];
  }

  /** The documents holding any of `terms` in any of `fields`. */
  #termDocs(fields: readonly string[], terms: readonly string[]): Set<string> {
    const matched = new Set<string>();
    for (const field of fields) {
      const byTerm = this.#postings.get(field);
      if (byTerm === undefined) continue;
      for (const term of terms) for (const id of byTerm.get(term)?.keys() ?? []) matched.add(id);
    }
    return matched;
  }

  /** The ids matching `plan` (the running search's deadline checked first). */
  #evaluate(plan: Plan): Set<string> {
    this.#check();
    switch (plan.kind) {
      case "all":
        return new Set(this.#docs.keys());
      case "none":
        return new Set();
      case "term":
        return this.#termDocs(this.#fieldsOf(plan.field), [plan.term]);
      case "phrase":
        return this.#phrase(plan);
      case "prefix":
        return this.#prefix(plan);
      case "fuzzy":
        return this.#termDocs(this.#fieldsOf(plan.field), this.#expand(plan));
      case "ids":
        return new Set(plan.ids.filter((id) => this.#docs.has(id)));
      case "eq":
        return this.#filter(plan.field, (value) => value === plan.value);
      case "range":
        return this.#filter(plan.field, (value) => inRange(plan, value));
      case "and": {
        let result: Set<string> | undefined;
        for (const child of plan.children) {
          const ids = this.#evaluate(child);
          result = result === undefined ? ids : result.intersection(ids);
        }
        return result ?? new Set(this.#docs.keys());
      }
      case "or": {
        let result = new Set<string>();
        for (const child of plan.children) result = result.union(this.#evaluate(child));
        return result;
      }
      case "not":
        return new Set(this.#docs.keys()).difference(this.#evaluate(plan.child));
      case "boost":
        return this.#evaluate(plan.child);
      case "rank":
        return this.#evaluate(plan.match);
    }
  }

  /** The documents holding a phrase in one of the leaf's fields. */
  #phrase(plan: Extract<Plan, { kind: "phrase" }>): Set<string> {
    const matched = new Set<string>();
    for (const field of this.#fieldsOf(plan.field)) {
      const byTerm = this.#postings.get(field);
      const lists = plan.terms.map((term) => byTerm?.get(term));
      if (lists.some((list) => list === undefined)) continue;
      const rarest = lists.reduce((a, b) => (a!.size <= b!.size ? a : b))!;
      for (const id of rarest.keys()) {
        if (!lists.every((list) => list!.has(id))) continue;
        const text = this.#docs.get(id)?.texts.get(field) ?? "";
        if (phraseInTokens(text.split(" "), plan.terms, plan.slop)) matched.add(id);
      }
    }
    return matched;
  }

  /** The documents holding a term that starts with the prefix. */
  #prefix(plan: Extract<Plan, { kind: "prefix" }>): Set<string> {
    const fields = this.#fieldsOf(plan.field);
    const terms = new Set<string>();
    for (const field of fields) {
      for (const term of this.#postings.get(field)?.keys() ?? []) {
        if (term.startsWith(plan.prefix)) terms.add(term);
      }
    }
    return this.#termDocs(fields, [...terms]);
  }

  /** A fuzzy leaf's expansions against the vocabulary of its fields, closest first. */
  #expand(plan: Extract<Plan, { kind: "fuzzy" }>): string[] {
    const vocabulary = new Set<string>();
    for (const field of this.#fieldsOf(plan.field)) {
      for (const term of this.#postings.get(field)?.keys() ?? []) vocabulary.add(term);
    }
    return expandFuzzy(plan.term, plan.distance, vocabulary, MAX_FUZZY_EXPANSIONS);
  }

  #filter(field: string, accept: (value: PlanValue) => boolean): Set<string> {
    const matched = new Set<string>();
    for (const [id, doc] of this.#docs) {
      if (doc.values.get(field)?.some(accept) === true) matched.add(id);
    }
    return matched;
  }

  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[] {
    const matched = this.#evaluate(plan);
    return specs.map((spec) => {
      if (spec.kind === "values") {
        const counts = new Map<PlanValue, number>();
        for (const id of matched) {
          for (const value of new Set(this.#docs.get(id)!.values.get(spec.field) ?? [])) {
            counts.set(value, (counts.get(value) ?? 0) + 1);
          }
        }
        const buckets = [...counts].map(([value, count]) => ({ value, count }))
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
          .slice(0, Math.min(spec.size, MAX_FACET_VALUES_PER_SHARD));
        return { kind: "values", buckets };
      }
      const buckets = spec.ranges.map((range) => {
        let count = 0;
        for (const id of matched) {
          const values = this.#docs.get(id)!.values.get(spec.field) ?? [];
          const inside = values.some((v) =>
            typeof v === "number" && (range.from === undefined || v >= range.from) &&
            (range.to === undefined || v < range.to)
          );
          if (inside) count++;
        }
        return { ...range, count };
      });
      return { kind: "ranges", buckets };
    });
  }

  count(): number {
    return this.#docs.size;
  }

  memoryBytes(): number {
    // Orama's structures are several times the terms they hold (measured ~1.4 GB for
    // 126k dictionary entries); estimate them as 4× the terms and values kept here, which
    // count once more themselves.
    return this.#bytes * (1 + ORAMA_BYTES_PER_KEPT_BYTE);
  }

  close(): void {
    this.#docs.clear();
    this.#postings.clear();
    this.#fieldStats.clear();
    this.#anyFieldDocs.clear();
    this.#db = this.#createDb();
  }

  destroy(): void {
    this.close();
  }
}

/** Whether a value lies in a range's bounds (of the same type as the bounds). */
function inRange(plan: Extract<Plan, { kind: "range" }>, value: PlanValue): boolean {
  if (typeof value === "boolean") return false;
  if (plan.gt !== undefined && !(value > plan.gt)) return false;
  if (plan.gte !== undefined && !(value >= plan.gte)) return false;
  if (plan.lt !== undefined && !(value < plan.lt)) return false;
  if (plan.lte !== undefined && !(value <= plan.lte)) return false;
  return typeof value === typeof (plan.gt ?? plan.gte ?? plan.lt ?? plan.lte ?? value);
}

/** The terms of a document's text fields, each once. */
function distinctTerms(doc: StoredDoc): Set<string> {
  const terms = new Set<string>();
  for (const ofField of doc.terms.values()) for (const term of ofField) terms.add(term);
  return terms;
}
