/**
 * Lucene's phrase slop, for both engines: a phrase `"t0 t1 … tn-1"~slop` matches a field when
 * each term `ti` can be given its own position `pi` in it such that the positions, each taken
 * back by the term's place in the phrase (`pi − i`), lie within `slop` of each other. That is
 * the number of moves of single terms that turn the field's occurrences into the phrase — a
 * positional edit distance, order-aware: `"small bike"~1` does not match "the bike is small"
 * (it needs 3), `"a b"~2` matches "b a". Slop 0 is the exact phrase.
 *
 * This is the rule `SloppyPhraseMatcher` applies (Lucene 8; Tantivy and Elasticsearch follow
 * it): the match length of a set of positions is `max(pi − i) − min(pi − i)`. Repeated terms
 * must take different positions, as in Lucene.
 *
 * @module
 */

import { lowerBound } from "./_posting_lists.ts";

/**
 * Whether every term `i` of a phrase (its positions in `positions[i]`, ascending) can take a
 * position in `[lo + i, lo + i + slop]`, repeated terms (`groups`) each a different one.
 * Within a group the windows have one length and start in the terms' order, so taking for
 * each term the lowest free position in its window is an assignment when one exists.
 */
function fitsWindow(
  positions: ReadonlyArray<readonly number[]>,
  groups: ReadonlyArray<readonly number[]>,
  lo: number,
  slop: number,
): boolean {
  for (const group of groups) {
    let taken = -Infinity;
    for (const i of group) {
      const list = positions[i]!;
      const start = Math.max(lo + i, taken + 1);
      const at = lowerBound(list, start);
      if (at >= list.length || list[at]! > lo + i + slop) return false;
      taken = list[at]!;
    }
  }
  return true;
}

/**
 * Whether a field holds a phrase within `slop` (Lucene's sloppy phrase): `terms` are the
 * phrase's terms in order, `positionsOf(term)` the term's positions in the field, ascending.
 */
export function sloppyPhraseMatches(
  terms: readonly string[],
  positionsOf: (term: string) => readonly number[],
  slop: number,
): boolean {
  if (terms.length === 0) return false;
  const positions = terms.map((term) => positionsOf(term));
  if (positions.some((list) => list.length === 0)) return false;
  const byTerm = new Map<string, number[]>();
  terms.forEach((term, i) => {
    const group = byTerm.get(term);
    if (group === undefined) byTerm.set(term, [i]);
    else group.push(i);
  });
  const groups = [...byTerm.values()];
  // The window's low end is some term's position taken back by its place: try each.
  for (let i = 0; i < terms.length; i++) {
    for (const p of positions[i]!) {
      if (fitsWindow(positions, groups, p - i, slop)) return true;
    }
  }
  return false;
}

/** Whether `tokens` (one field, in order) hold the phrase `terms` within `slop`. */
export function phraseInTokens(
  tokens: readonly string[],
  terms: readonly string[],
  slop: number,
): boolean {
  const wanted = new Set(terms);
  const positions = new Map<string, number[]>();
  tokens.forEach((token, i) => {
    if (!wanted.has(token)) return;
    const list = positions.get(token);
    if (list === undefined) positions.set(token, [i]);
    else list.push(i);
  });
  return sloppyPhraseMatches(terms, (term) => positions.get(term) ?? [], slop);
}

/**
 * The FTS5 `NEAR` distance that every match of a phrase of `terms` terms within `slop` also
 * meets (a candidate filter): positions within `slop` after each is taken back by its place
 * span at most `slop + terms − 1`, so at most `slop + terms − 2` tokens lie between the
 * outermost ones.
 */
export function nearDistanceFor(terms: number, slop: number): number {
  return Math.max(0, slop + terms - 2);
}
