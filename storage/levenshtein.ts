/**
 * Edit distance for fuzzy terms, shared by both engines so they expand alike.
 *
 * @module
 */

/** The Levenshtein distance between `a` and `b`, or `max + 1` once it exceeds `max`. */
export function levenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length]!;
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
    const d = levenshtein(term, candidate, distance);
    if (d <= distance) found.push([candidate, d]);
  }
  found.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return found.slice(0, limit).map(([candidate]) => candidate);
}
