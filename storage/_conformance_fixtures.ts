/**
 * What the search-engine conformance suite works on: the four books, their schema, the engine
 * harness and the helpers its cases share (`search_index_conformance.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { declareFields, EMPTY_SCHEMA, flatten, planSchema, type Schema } from "./schema.ts";
import type { IndexOp, Plan, SearchIndex } from "./search_index.ts";

/** Builds an engine for a schema; `reopen` (durable engines) opens the same files again. */
export interface EngineHarness {
  create(schema: Schema): SearchIndex;
  reopen?(schema: Schema): SearchIndex;
  cleanup(): void;
}

export const BOOKS = [
  {
    id: "b1",
    doc: {
      title: "Rust Programming",
      body: "Safe systems programming with Rust",
      year: 2019,
      price: 39.5,
      status: "active",
      draft: false,
      tags: ["rust", "systems"],
      author: { name: "Klabnik" },
      published: "2019-08-12",
    },
  },
  {
    id: "b2",
    doc: {
      title: "Go in Action",
      body: "Concurrency in Go, simple and fast",
      year: 2016,
      price: 29,
      status: "active",
      draft: false,
      tags: ["go"],
      author: { name: "Kennedy" },
      published: "2015-11-01",
    },
  },
  {
    id: "b3",
    doc: {
      title: "Rustacean Handbook",
      body: "Rust rust rust: a small bike ride through ownership",
      year: 2024,
      price: 45,
      status: "draft",
      draft: true,
      tags: ["rust"],
      author: { name: "Émile Café" },
      published: "2024-02-29",
    },
  },
  {
    id: "b4",
    doc: {
      title: "Databases",
      body: "Storage engines, B-trees and LSM trees",
      year: 2021,
      price: 52.25,
      status: "pending",
      draft: false,
      tags: ["databases", "storage"],
      author: { name: "Petrov" },
      published: "2021-06-30",
    },
  },
];

export function schemaFor(docs: ReadonlyArray<{ doc: Record<string, unknown> }>): Schema {
  // `status` is declared string (exact values); the rest is inferred.
  const declared = declareFields(EMPTY_SCHEMA, [{ name: "status", type: "string" }]);
  const plan = planSchema(declared, docs.map((d) => d.doc));
  assert.ok(plan.errors.every((e) => e === undefined));
  return plan.schema;
}

export function puts(
  schema: Schema,
  docs: ReadonlyArray<{ id: string; doc: Record<string, unknown> }>,
): IndexOp[] {
  return docs.map(({ id, doc }) => ({ op: "put", id, values: flatten(schema, doc) }));
}

export function ids(index: SearchIndex, plan: Plan): string[] {
  return index.search(plan, { limit: 100, offset: 0 }).hits.map((hit) => hit.id).sort();
}

export const term = (field: string | null, t: string): Plan => ({ kind: "term", field, term: t });

/** One conformance case: what it checks, and the check. */
export interface ConformanceCase {
  readonly title: string;
  /** Only for engines that keep their data across a reopen. */
  readonly durableOnly?: boolean;
  readonly run: (h: EngineHarness) => void;
}

/** An engine holding the four books, applied at sequence number 4. */

export function loaded(h: EngineHarness): SearchIndex {
  const schema = schemaFor(BOOKS);
  const index = h.create(schema);
  index.apply(puts(schema, BOOKS), 4);
  return index;
}
