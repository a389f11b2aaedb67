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
import { create, insertMultiple, type Orama, remove, search } from "npm:@orama/orama@3.1.18";
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
import { compareHits } from "./hit_order.ts";
import { expandFuzzy } from "./edit_distance.ts";
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
  #applied = 0;
  #bytes = 0;

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
        this.#bytes -= existing.bytes;
      }
      if (op.op === "delete") continue;
      const terms = new Map<string, Set<string>>();
      const texts = new Map<string, string>();
      const values = new Map<string, PlanValue[]>();
      let bytes = ESTIMATED_BYTES.docBase + op.id.length * ESTIMATED_BYTES.perIdUnit;
      for (const value of op.values) {
        if (value.type === "text") {
          const tokens = value.values.flatMap((text) => tokenize(String(text)));
          const text = tokens.join(" ");
          terms.set(value.path, new Set(tokens));
          texts.set(value.path, text);
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
      const doc: StoredDoc = { terms, texts, values, bytes };
      this.#docs.set(op.id, doc);
      this.#bytes += bytes;
      inserts.push(this.#oramaDoc(op.id, doc));
    }
    if (inserts.length > 0) insertMultiple(this.#db, inserts);
    this.#applied = seq;
  }

  search(plan: Plan, options: SearchOptions): SearchResult {
    const scores = new Map<string, number>();
    const matched = this.#evaluate(plan, scores, 1);
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
    hits.sort((a, b) => compareHits(a, b, sort));
    return {
      total: hits.length,
      hits: options.limit <= 0 ? [] : hits.slice(options.offset, options.offset + options.limit),
    };
  }

  /** The ids matching `plan`; scoring leaves add `weight` × their score to `scores`. */
  #evaluate(plan: Plan, scores: Map<string, number>, weight: number): Set<string> {
    switch (plan.kind) {
      case "all":
        return new Set(this.#docs.keys());
      case "none":
        return new Set();
      case "term":
        return this.#text(plan.field, [plan.term], scores, weight, (terms) => terms.has(plan.term));
      case "phrase":
        return this.#text(
          plan.field,
          plan.terms,
          scores,
          weight,
          (terms, text) =>
            plan.terms.every((t) => terms.has(t)) &&
            phraseMatches(text.split(" "), plan.terms, plan.slop),
        );
      case "prefix":
        return this.#text(plan.field, [plan.prefix], scores, weight, (terms) => {
          for (const term of terms) if (term.startsWith(plan.prefix)) return true;
          return false;
        });
      case "fuzzy":
        return this.#fuzzy(plan, scores, weight);
      case "ids":
        return new Set(plan.ids.filter((id) => this.#docs.has(id)));
      case "eq":
        return this.#filter(plan.field, (value) => value === plan.value);
      case "range":
        return this.#filter(plan.field, (value) => inRange(plan, value));
      case "and": {
        let result: Set<string> | undefined;
        for (const child of plan.children) {
          const ids = this.#evaluate(child, scores, weight);
          result = result === undefined ? ids : result.intersection(ids);
        }
        return result ?? new Set(this.#docs.keys());
      }
      case "or": {
        let result = new Set<string>();
        for (const child of plan.children) {
          result = result.union(this.#evaluate(child, scores, weight));
        }
        return result;
      }
      case "not": {
        const excluded = this.#evaluate(plan.child, new Map(), 0);
        return new Set(this.#docs.keys()).difference(excluded);
      }
      case "boost":
        return this.#evaluate(plan.child, scores, weight * plan.factor);
      case "rank": {
        const matched = this.#evaluate(plan.match, scores, weight);
        for (const optional of plan.optional) this.#evaluate(optional, scores, weight);
        return matched;
      }
    }
  }

  /** A fuzzy leaf: its expansions against the vocabulary, matched as terms. */
  #fuzzy(
    plan: Extract<Plan, { kind: "fuzzy" }>,
    scores: Map<string, number>,
    weight: number,
  ): Set<string> {
    const vocabulary = this.#vocabulary(plan.field);
    const expansions = expandFuzzy(plan.term, plan.distance, vocabulary, MAX_FUZZY_EXPANSIONS);
    if (expansions.length === 0) return new Set();
    const accept = (terms: Set<string>) => expansions.some((t) => terms.has(t));
    return this.#text(plan.field, expansions, scores, weight, accept);
  }

  /** Terms of the index, in one field or in every text field. */
  #vocabulary(field: string | null): Set<string> {
    const vocabulary = new Set<string>();
    for (const doc of this.#docs.values()) {
      for (const [path, terms] of doc.terms) {
        if (field === null || path === field) { for (const term of terms) vocabulary.add(term); }
      }
    }
    return vocabulary;
  }

  /**
   * A text leaf: Orama finds and scores candidates for `terms` (its prefix matching makes
   * them a superset); `accept` keeps the documents whose own terms (and text) match exactly.
   */
  #text(
    field: string | null,
    terms: readonly string[],
    scores: Map<string, number>,
    weight: number,
    accept: (terms: Set<string>, text: string) => boolean,
  ): Set<string> {
    const paths = field === null ? [...this.#properties.keys()] : [field];
    const properties = paths.map((path) => this.#properties.get(path))
      .filter((property) => property !== undefined);
    if (properties.length === 0 || this.#docs.size === 0 || terms.length === 0) return new Set();
    const matched = new Set<string>();
    const result = search(this.#db, {
      term: terms.join(" "),
      properties,
      limit: this.#docs.size,
      // Every document holding any of the terms; `accept` decides.
      threshold: 1,
      tolerance: 0,
    }) as { hits: Array<{ id: string; score: number }> };
    for (const hit of result.hits) {
      const doc = this.#docs.get(hit.id);
      if (doc === undefined) continue;
      const ok = paths.some((path) => {
        const docTerms = doc.terms.get(path);
        return docTerms !== undefined && accept(docTerms, doc.texts.get(path) ?? "");
      });
      if (!ok) continue;
      matched.add(hit.id);
      if (weight !== 0) scores.set(hit.id, (scores.get(hit.id) ?? 0) + weight * hit.score);
    }
    return matched;
  }

  #filter(field: string, accept: (value: PlanValue) => boolean): Set<string> {
    const matched = new Set<string>();
    for (const [id, doc] of this.#docs) {
      if (doc.values.get(field)?.some(accept) === true) matched.add(id);
    }
    return matched;
  }

  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[] {
    const matched = this.#evaluate(plan, new Map(), 0);
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
    this.#db = this.#createDb();
  }

  destroy(): void {
    this.close();
  }
}

/**
 * Whether `tokens` hold the phrase: with `slop` 0 the terms consecutive and in order; else
 * one occurrence of each distinct term within a span whose first and last positions have at
 * most `slop` tokens between them, in any order (SQLite FTS5's NEAR).
 */
export function phraseMatches(
  tokens: readonly string[],
  terms: readonly string[],
  slop: number,
): boolean {
  if (terms.length === 0) return false;
  if (slop === 0 || terms.length === 1) {
    outer: for (let i = 0; i + terms.length <= tokens.length; i++) {
      for (let k = 0; k < terms.length; k++) if (tokens[i + k] !== terms[k]) continue outer;
      return true;
    }
    return false;
  }
  const wanted = [...new Set(terms)];
  const last = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!wanted.includes(token)) continue;
    last.set(token, i);
    if (last.size === wanted.length) {
      const first = Math.min(...last.values());
      if (i - first - 1 <= slop) return true;
    }
  }
  return false;
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
