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

import { create, insertMultiple, type Orama, remove, search } from "@orama/orama";
import type { Schema } from "./schema.ts";
import { scalarOf } from "./schema.ts";
import type {
  Hit,
  IndexOp,
  Plan,
  PlanValue,
  SchemaChange,
  SearchIndex,
  SearchOptions,
  SearchResult,
} from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";

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
  #db: AnyOrama;
  #applied = 0;
  #bytes = 0;

  /** Creates an empty index for `schema`. */
  constructor(schema: Schema) {
    this.#setProperties(schema);
    this.#db = this.#createDb();
  }

  #setProperties(schema: Schema): void {
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
      let bytes = 64 + op.id.length * 2;
      for (const value of op.values) {
        if (value.type === "text") {
          const tokens = value.values.flatMap((text) => tokenize(String(text)));
          const text = tokens.join(" ");
          terms.set(value.path, new Set(tokens));
          texts.set(value.path, text);
          bytes += text.length * 4 + tokens.length * 8;
        } else if (value.type !== "json") {
          values.set(value.path, [...value.values]);
          bytes += 16 * value.values.length;
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
    const matched = this.#evaluate(plan, scores);
    const hits: Hit[] = [...matched].map((id) => ({ id, score: scores.get(id) ?? 0 }));
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      total: hits.length,
      hits: options.limit <= 0 ? [] : hits.slice(options.offset, options.offset + options.limit),
    };
  }

  /** The ids matching `plan`; positive text leaves add their scores to `scores`. */
  #evaluate(plan: Plan, scores: Map<string, number>): Set<string> {
    switch (plan.kind) {
      case "all":
        return new Set(this.#docs.keys());
      case "none":
        return new Set();
      case "term":
        return this.#term(plan.field, plan.term, scores);
      case "eq":
        return this.#filter(plan.field, (value) => value === plan.value);
      case "range":
        return this.#filter(plan.field, (value) => {
          if (typeof value === "boolean") return false;
          if (plan.gt !== undefined && !(value > plan.gt)) return false;
          if (plan.gte !== undefined && !(value >= plan.gte)) return false;
          if (plan.lt !== undefined && !(value < plan.lt)) return false;
          if (plan.lte !== undefined && !(value <= plan.lte)) return false;
          return typeof value === typeof (plan.gt ?? plan.gte ?? plan.lt ?? plan.lte ?? value);
        });
      case "and": {
        let result: Set<string> | undefined;
        for (const child of plan.children) {
          const ids = this.#evaluate(child, scores);
          result = result === undefined ? ids : result.intersection(ids);
        }
        return result ?? new Set(this.#docs.keys());
      }
      case "or": {
        let result = new Set<string>();
        for (const child of plan.children) result = result.union(this.#evaluate(child, scores));
        return result;
      }
      case "not": {
        const excluded = this.#evaluate(plan.child, new Map());
        return new Set(this.#docs.keys()).difference(excluded);
      }
    }
  }

  #term(field: string | null, term: string, scores: Map<string, number>): Set<string> {
    const terms = tokenize(term);
    if (terms.length === 0) return new Set();
    const paths = field === null ? [...this.#properties.keys()] : [field];
    const properties = paths.map((path) => this.#properties.get(path))
      .filter((property) => property !== undefined);
    if (properties.length === 0 || this.#docs.size === 0) return new Set();
    const matched = new Set<string>();
    const result = search(this.#db, {
      term: terms.join(" "),
      properties,
      limit: this.#docs.size,
      // Every document holding any of the terms; the exact check below keeps those
      // holding all of them, as FTS5's implicit AND does.
      threshold: 1,
      tolerance: 0,
    }) as { hits: Array<{ id: string; score: number }> };
    for (const hit of result.hits) {
      const doc = this.#docs.get(hit.id);
      // Orama also returns prefix matches; keep documents holding every term exactly.
      if (doc === undefined) continue;
      const exact = terms.every((t) => paths.some((path) => doc.terms.get(path)?.has(t) === true));
      if (!exact) continue;
      matched.add(hit.id);
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + hit.score);
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

  count(): number {
    return this.#docs.size;
  }

  memoryBytes(): number {
    // Orama's structures are several times the terms they hold (measured ~1.4 GB for
    // 126k dictionary entries); estimate them as 4× the terms and values kept here.
    return this.#bytes * 5;
  }

  close(): void {
    this.#docs.clear();
    this.#db = this.#createDb();
  }

  destroy(): void {
    this.close();
  }
}
