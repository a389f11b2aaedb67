/**
 * The query lexer: splits a query into tokens with their positions.
 *
 * A word is a run of characters other than whitespace and `( ) [ ] { } " : ^ ~`; a `+`
 * or `-` at the start of a clause is an operator (inside a word, as in `e-mail` or
 * `2024-01-01`, it is part of it). After a `:`, `>`, `>=`, `<` and `<=` are comparison
 * operators.
 *
 * @module
 */

import { QueryError } from "./errors.ts";

/** Token kinds. */
export type TokenKind =
  | "word"
  | "quoted"
  | "("
  | ")"
  | "["
  | "]"
  | "{"
  | "}"
  | ":"
  | "^"
  | "~"
  | "+"
  | "-"
  | "cmp"
  | "eof";

/** One token: its kind, its text (unescaped for quoted strings) and where it starts. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
}

const SINGLE = new Set(["(", ")", "[", "]", "{", "}", ":", "^", "~"]);
const WORD_END = /[\s()[\]{}":^~]/;

/** Splits `query` into tokens, ending with an `eof` token. */
export function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const char = query[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    const previous = tokens.at(-1);
    if (char === '"') {
      let text = "";
      let j = i + 1;
      while (j < query.length && query[j] !== '"') {
        if (query[j] === "\\" && j + 1 < query.length) j++;
        text += query[j];
        j++;
      }
      if (j >= query.length) throw new QueryError("Unterminated quoted string", query, i);
      tokens.push({ kind: "quoted", text, position: i });
      i = j + 1;
      continue;
    }
    if (SINGLE.has(char)) {
      tokens.push({ kind: char as TokenKind, text: char, position: i });
      i++;
      continue;
    }
    if ((char === ">" || char === "<") && previous?.kind === ":") {
      const op = query[i + 1] === "=" ? `${char}=` : char;
      tokens.push({ kind: "cmp", text: op, position: i });
      i += op.length;
      continue;
    }
    // + and - are operators at the start of a clause only.
    const clauseStart = previous === undefined || /\s/.test(query[i - 1] ?? " ") ||
      previous.kind === "(" || previous.kind === "+" || previous.kind === "-";
    if ((char === "+" || char === "-") && clauseStart) {
      tokens.push({ kind: char, text: char, position: i });
      i++;
      continue;
    }
    let j = i;
    while (j < query.length && !WORD_END.test(query[j]!)) j++;
    tokens.push({ kind: "word", text: query.slice(i, j), position: i });
    i = j;
  }
  tokens.push({ kind: "eof", text: "", position: query.length });
  return tokens;
}
