/**
 * How one indexed value of a document is staged for the FTS5 engine: a text field's tokens
 * go to its FTS5 column (fed pre-tokenized, so both engines agree on terms) and to the
 * ranking postings; numbers, dates, booleans and exact strings go to `vals`; the elements of
 * a text array are also kept whole in `vals`, for facets.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { IndexedValue, Schema } from "./schema.ts";
import { MAX_FACET_VALUE_LENGTH } from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";

/** What one document's values are staged into, before its FTS5 row is inserted. */
export interface StagedDocument {
  readonly rid: number;
  /** Per FTS5 column, its text (`null`: none). */
  readonly texts: Array<string | null>;
  /** Per FTS5 column, its tokens (for the ranking postings). */
  readonly tokens: Map<number, string[]>;
}

/** Where staging writes, and what it reads. */
export interface StagingTarget {
  readonly columns: ReadonlyMap<string, number>;
  readonly schema: Schema;
  /** `INSERT INTO vals(rid, field, num, str) VALUES (?, ?, ?, ?)`. */
  readonly insertVal: StatementSync;
}

/** Stages one indexed value of the document `into.rid` (see the module doc). */
export function stageValue(
  value: IndexedValue,
  into: StagedDocument & StagingTarget,
): void {
  const { rid, insertVal } = into;
  switch (value.type) {
    case "text":
      stageText(value, into);
      return;
    case "string":
      for (const v of value.values) insertVal.run(rid, value.path, null, String(v));
      return;
    case "boolean":
      for (const v of value.values) insertVal.run(rid, value.path, v ? 1 : 0, null);
      return;
    case "i64":
    case "f64":
    case "date":
      for (const v of value.values) insertVal.run(rid, value.path, Number(v), null);
      return;
    case "json":
      return;
  }
}

/** A text value: its column's text and tokens, and a text array's elements for facets. */
function stageText(
  value: IndexedValue,
  into: StagedDocument & StagingTarget,
): void {
  const column = into.columns.get(value.path);
  if (column === undefined) {
    throw new Error(`text field "${value.path}" has no column; updateSchema was not called`);
  }
  // Fed pre-tokenized so that both engines agree on terms; elements of an array
  // are separated by a newline.
  const tokens = value.values.map((text) => tokenize(String(text)));
  into.texts[column] = tokens.map((list) => list.join(" ")).join("\n");
  into.tokens.set(column, tokens.flat());
  // Elements of text arrays (tags) are also kept whole, for facets.
  if (into.schema.fields[value.path]?.type === "text[]") {
    for (const v of value.values) {
      const text = String(v);
      if (text.length <= MAX_FACET_VALUE_LENGTH) {
        into.insertVal.run(into.rid, value.path, null, text);
      }
    }
  }
}
