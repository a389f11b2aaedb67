/**
 * Raw Orama in this process: the engine without the database around it (no KV, no HTTP,
 * no durability), fed the same documents. Its `term` search matches prefixes and ranks by
 * BM25; it has no phrase search (a phrase is searched as its words) and no per-field query
 * language, so queries are given as `term` + `properties` + `where`.
 *
 * @module
 */

import { create, getByID, insert, insertMultiple, remove, search } from "@orama/orama";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { processRss, type System } from "./system.ts";

const SCHEMA = { title: "string", text: "string", size: "number", kind: "string" } as const;

/** Raw Orama. */
export class OramaSystem implements System {
  readonly name = "Orama (raw, in process)";
  readonly how = "@orama/orama 3.1.18 in the benchmark's own process; nothing is written to disk";
  // deno-lint-ignore no-explicit-any
  #db: any;

  start(): Promise<void> {
    this.#db = create({ schema: SCHEMA });
    return Promise.resolve();
  }

  #row(doc: CorpusDoc) {
    return {
      id: doc.id,
      title: doc.doc.title,
      text: doc.doc.text,
      size: doc.doc.size,
      kind: doc.doc.kind,
    };
  }

  put(doc: CorpusDoc): Promise<void> {
    // Orama's insert refuses an id it has: writing a document again replaces it.
    if (getByID(this.#db, doc.id) !== undefined) remove(this.#db, doc.id);
    insert(this.#db, this.#row(doc));
    return Promise.resolve();
  }

  bulk(docs: readonly CorpusDoc[]): Promise<void> {
    insertMultiple(this.#db, docs.map((doc) => this.#row(doc)), docs.length);
    return Promise.resolve();
  }

  search(query: CompareQuery): Promise<string[]> {
    const result = search(this.#db, {
      term: query.terms.join(" "),
      properties: ["text"],
      limit: 10,
      ...(query.kind === "or" ? {} : { threshold: 0 }),
      ...(query.range === undefined
        ? {}
        : { where: { size: { between: [query.range.from, query.range.to] } } }),
    }) as { hits: Array<{ id: string }> };
    return Promise.resolve(result.hits.map((hit) => hit.id));
  }

  get(id: string): Promise<boolean> {
    return Promise.resolve(getByID(this.#db, id) !== undefined);
  }

  rssBytes(): Promise<number> {
    return processRss(Deno.pid);
  }

  caveat(query: CompareQuery): string | undefined {
    if (query.kind === "phrase") return "no phrase search: documents holding both words";
    if (query.kind === "term" || query.kind === "range") {
      return "Orama's term search also matches words that start with the term";
    }
    return undefined;
  }

  stop(): Promise<void> {
    this.#db = undefined;
    return Promise.resolve();
  }
}
