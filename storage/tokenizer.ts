/**
 * The one tokenizer both search engines use, so that they agree on what a term is: text
 * is decomposed (NFKD), stripped of diacritics, lowercased and split on every character
 * that is not a letter or a digit — the rules of SQLite FTS5's `unicode61
 * remove_diacritics 2` tokenizer. Both engines are fed already-tokenized text.
 *
 * @module
 */

/** Longest term kept, in characters. */
export const MAX_TERM_LENGTH = 255;

const SEPARATORS = /[^\p{L}\p{N}]+/u;
const MARKS = /\p{M}+/gu;

/** Normalizes one piece of text: decomposed, without diacritics, lowercase. */
export function normalize(text: string): string {
  return text.normalize("NFKD").replace(MARKS, "").toLowerCase();
}

/** Splits text into its terms, in order. */
export function tokenize(text: string): string[] {
  const tokens = normalize(text).split(SEPARATORS).filter((token) => token !== "");
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.length > MAX_TERM_LENGTH) tokens[i] = tokens[i]!.slice(0, MAX_TERM_LENGTH);
  }
  return tokens;
}
