/**
 * Edit distance for fuzzy terms, shared by both engines so they expand alike: the
 * optimal-string-alignment form of the Damerau–Levenshtein distance, where swapping two
 * adjacent characters costs one edit (as in Lucene's and Tantivy's fuzzy queries), so
 * `appel~1` finds "apple".
 *
 * @module
 */

/**
 * The edit distance between `a` and `b` (insertions, deletions, substitutions and adjacent
 * transpositions, each 1), or `max + 1` once it exceeds `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, before[j - 2]! + 1);
      }
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    // A transposition reaches back two rows, so the row minimum alone cannot cut off early
    // unless the previous row is past `max` too.
    if (rowMin > max && Math.min(...previous) > max) return max + 1;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length]!, max + 1);
}

/**
 * The vocabulary terms within `distance` of `term`, closest first then alphabetical, at
 * most `limit`.
 */
export function expandFuzzy(
  term: string,
  distance: number,
  vocabulary: Iterable<string>,
  limit: number,
): string[] {
  const found: Array<[string, number]> = [];
  for (const candidate of vocabulary) {
    const d = editDistance(term, candidate, distance);
    if (d <= distance) found.push([candidate, d]);
  }
  found.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return found.slice(0, limit).map(([candidate]) => candidate);
}
