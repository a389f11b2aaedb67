/**
 * What the FTS5 engine's SQL compiler needs beyond the plan, read from the database before a
 * query is compiled: each fuzzy leaf's expansions (from the `fts5vocab` vocabulary) and the
 * documents holding each sloppy phrase (FTS5's NEAR names the candidates, whose positions are
 * then checked per column by Lucene's rule, `phrase_slop.ts`).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import {
  type Fts5SqlContext,
  fuzzyKey,
  fuzzyLeaves,
  INSTANCES_SQL,
  matchExpression,
  phraseKey,
  positionsQuery,
  sloppyPhraseLeaves,
  vocabularyQuery,
} from "./_fts5_sql.ts";
import { expandFuzzy } from "./edit_distance.ts";
import { sloppyPhraseMatches } from "./phrase_slop.ts";
import type { Schema } from "./schema.ts";
import { type DeadlineCheck, NO_DEADLINE } from "./search_deadline.ts";
import { MAX_FUZZY_EXPANSIONS, type Plan } from "./search_index.ts";

type PhraseLeaf = Extract<Plan, { kind: "phrase" }>;

/** What {@linkcode matchContext} reads from. */
export interface MatchContextOptions {
  readonly columns: ReadonlyMap<string, number>;
  readonly schema: Schema;
  /** Checked between units of work. */
  readonly check?: DeadlineCheck;
  /** Whether the sloppy phrases' documents are needed (statistics need only expansions). */
  readonly phrases?: boolean;
}

/**
 * What the SQL compiler needs: the columns, the schema, the plan's fuzzy expansions and the
 * documents holding its sloppy phrases.
 */
export function matchContext(
  db: DatabaseSync,
  plan: Plan,
  options: MatchContextOptions,
): Fts5SqlContext {
  const { columns, schema } = options;
  const check = options.check ?? NO_DEADLINE;
  const fuzzyTerms = new Map<string, readonly string[]>();
  for (const leaf of fuzzyLeaves(plan)) {
    const key = fuzzyKey(leaf.field, leaf.term, leaf.distance);
    check();
    if (!fuzzyTerms.has(key)) {
      fuzzyTerms.set(key, fuzzyExpansions(db, { ...leaf, columns }));
    }
  }
  const sloppyPhrases = new Map<string, readonly number[]>();
  for (const leaf of (options.phrases ?? true) ? sloppyPhraseLeaves(plan) : []) {
    const key = phraseKey(leaf);
    check();
    if (!sloppyPhrases.has(key)) {
      sloppyPhrases.set(key, sloppyPhraseDocs(db, leaf, { columns, fuzzyTerms, check }));
    }
  }
  return { columns, schema, fuzzyTerms, sloppyPhrases };
}

/** The vocabulary terms (of one field, or all) within `distance` of `term`, closest first. */
function fuzzyExpansions(
  db: DatabaseSync,
  leaf: {
    readonly field: string | null;
    readonly term: string;
    readonly distance: number;
    readonly columns: ReadonlyMap<string, number>;
  },
): string[] {
  const { field, term, distance } = leaf;
  db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'col')");
  const column = field === null ? undefined : leaf.columns.get(field);
  if (field !== null && column === undefined) return [];
  const { sql, params } = vocabularyQuery(term, distance, column);
  const rows = db.prepare(sql).all(...params) as Array<{ term: string }>;
  return expandFuzzy(term, distance, rows.map((row) => row.term), MAX_FUZZY_EXPANSIONS);
}

/**
 * The documents holding a phrase within its slop (Lucene's rule, `phrase_slop.ts`): FTS5's
 * NEAR names the candidates, whose positions (`fts5vocab` instances) are then checked per
 * column.
 */
function sloppyPhraseDocs(
  db: DatabaseSync,
  leaf: PhraseLeaf,
  context: {
    readonly columns: ReadonlyMap<string, number>;
    readonly fuzzyTerms: ReadonlyMap<string, readonly string[]>;
    readonly check: DeadlineCheck;
  },
): number[] {
  const near = matchExpression(leaf, context);
  if (near === undefined) return [];
  const candidates = (db.prepare("SELECT rowid AS rid FROM fts WHERE fts MATCH ?")
    .all(near) as Array<{ rid: number }>).map((row) => row.rid);
  if (candidates.length === 0) return [];
  db.exec(INSTANCES_SQL);
  const column = leaf.field === null ? undefined : context.columns.get(leaf.field);
  const positions = termPositions(db, leaf, { candidates, column, check: context.check });
  const matched: number[] = [];
  for (const [rid, byColumn] of positions) {
    for (const byTerm of byColumn.values()) {
      const positionsOf = (term: string) => (byTerm.get(term) ?? []).sort((a, b) => a - b);
      if (sloppyPhraseMatches(leaf.terms, positionsOf, leaf.slop)) {
        matched.push(rid);
        break;
      }
    }
  }
  return matched;
}

/** Per candidate document and column, per term of the phrase: its positions. */
function termPositions(
  db: DatabaseSync,
  leaf: PhraseLeaf,
  options: {
    readonly candidates: readonly number[];
    readonly column: number | undefined;
    readonly check: DeadlineCheck;
  },
): Map<number, Map<string, Map<string, number[]>>> {
  const positions = new Map<number, Map<string, Map<string, number[]>>>();
  for (const term of new Set(leaf.terms)) {
    options.check();
    const { sql, params } = positionsQuery(term, options.candidates, options.column);
    const rows = db.prepare(sql).all(...params) as Array<
      { doc: number; col: string; offset: number }
    >;
    for (const { doc, col, offset } of rows) {
      let byColumn = positions.get(doc);
      if (byColumn === undefined) positions.set(doc, byColumn = new Map());
      let byTerm = byColumn.get(col);
      if (byTerm === undefined) byColumn.set(col, byTerm = new Map());
      const list = byTerm.get(term);
      if (list === undefined) byTerm.set(term, [offset]);
      else list.push(offset);
    }
  }
  return positions;
}
