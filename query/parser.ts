/**
 * The query parser: tokens into an AST with source positions, plus the inline modifiers.
 *
 * Grammar (precedence from loose to tight: implicit/`OR` < `AND` < `NOT`/`+`/`-`):
 *
 * ```
 * query     := group modifiers? EOF
 * group     := ( andChain | "OR" )*
 * andChain  := clause ( "AND" clause )*
 * clause    := ( "+" | "-" | "NOT" )? primary ( "^" number )?
 * primary   := "(" group ")" | "*" | field ":" value | bareValue
 * value     := "(" group-of-values ")" | quoted ("~" n)? | word ("~" n?)? | range | cmp word
 *            | "IN" "[" word* "]"
 * range     := ("[" | "{") bound "TO" bound ("]" | "}")
 * modifiers := ( "limit" n | "offset" n | "sort" field ":" ("asc"|"desc") | "return" f,f… )+
 * ```
 *
 * A group's clauses follow Lucene's rules: with a `+` clause, only `+` clauses decide what
 * matches and the others only add to the score; without, any clause matches; `-`/`NOT`
 * clauses exclude. A group of only excluding clauses matches nothing and is refused: add `*`.
 * Lowercase `and`, `or`, `not` are ordinary terms. Modifiers come in one run at the end; to
 * search for the word `limit` itself, quote it.
 *
 * @module
 */

import { QueryError } from "./errors.ts";
import { lex, type Token, type TokenKind } from "./lexer.ts";
import type { Ast, FieldRef, Modifiers, ParsedQuery } from "./ast.ts";

export type { Ast, Bound, FieldRef, Modifiers, ParsedQuery, SortKey } from "./ast.ts";

type Occur = "must" | "should" | "mustNot";

const MODIFIERS = new Set(["limit", "offset", "sort", "return"]);

/** Longest query accepted, in characters. */
export const MAX_QUERY_LENGTH = 10_000;
/** Deepest nesting of parentheses accepted. */
export const MAX_NESTING = 64;

/** Parses a query; throws `QueryError` with the position of the first problem. */
export function parseQuery(query: string): ParsedQuery {
  if (query.length > MAX_QUERY_LENGTH) {
    throw new QueryError(
      `Query too long (at most ${MAX_QUERY_LENGTH} characters)`,
      query,
      MAX_QUERY_LENGTH,
    );
  }
  return new Parser(query).parse();
}

class Parser {
  #query: string;
  #tokens: Token[];
  #at = 0;
  #depth = 0;

  /** Where the trailing run of modifiers starts (the tokens' length when there is none). */
  #modifiersAt: number;

  constructor(query: string) {
    this.#query = query;
    this.#tokens = lex(query);
    this.#modifiersAt = this.#findModifiers();
  }

  /**
   * The first top-level position from which every token up to the end parses as modifiers.
   * A modifier word anywhere else is a plain word: "return to your native land" is five
   * terms; "rust return title" returns the title.
   */
  #findModifiers(): number {
    let depth = 0;
    for (let i = 0; i < this.#tokens.length; i++) {
      const token = this.#tokens[i]!;
      if (token.kind === "(") depth++;
      else if (token.kind === ")") depth--;
      else if (depth === 0 && token.kind === "word" && MODIFIERS.has(token.text)) {
        if (this.#modifiersParseFrom(i)) return i;
      }
    }
    return this.#tokens.length;
  }

  #modifiersParseFrom(at: number): boolean {
    const saved = this.#at;
    this.#at = at;
    try {
      this.#modifiers();
      return this.#peek().kind === "eof";
    } catch (error) {
      if (error instanceof QueryError) return false;
      throw error;
    } finally {
      this.#at = saved;
    }
  }

  parse(): ParsedQuery {
    if (this.#peek().kind === "eof" || this.#atModifiers()) {
      throw this.#error("Empty query: expected a term, field:value or *", this.#peek());
    }
    const ast = this.#group();
    const modifiers = this.#modifiers();
    const end = this.#peek();
    if (end.kind !== "eof") {
      throw this.#error(
        end.kind === ")" ? "Unbalanced ')'" : `Unexpected ${describe(end)}`,
        end,
      );
    }
    return { ast, modifiers };
  }

  #peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#at + offset, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== "eof") this.#at++;
    return token;
  }

  #expect(kind: TokenKind, what: string): Token {
    const token = this.#peek();
    if (token.kind !== kind) throw this.#error(`Expected ${what}, found ${describe(token)}`, token);
    return this.#next();
  }

  #error(message: string, token: Token): QueryError {
    return new QueryError(message, this.#query, token.position);
  }

  #isWord(token: Token, text: string): boolean {
    return token.kind === "word" && token.text === text;
  }

  /** Whether the trailing run of modifiers starts here. */
  #atModifiers(): boolean {
    return this.#at === this.#modifiersAt;
  }

  #group(): Ast {
    const position = this.#peek().position;
    const items: Array<{ occur: Occur; ast: Ast }> = [];
    while (true) {
      const token = this.#peek();
      if (token.kind === "eof" || token.kind === ")" || this.#atModifiers()) break;
      if (this.#isWord(token, "OR")) {
        if (items.length === 0) throw this.#error("OR needs a clause on its left", token);
        this.#next();
        const after = this.#peek();
        if (
          after.kind === "eof" || after.kind === ")" || this.#isWord(after, "OR") ||
          this.#isWord(after, "AND")
        ) {
          throw this.#error(`Expected a clause after OR, found ${describe(after)}`, after);
        }
        continue;
      }
      if (this.#isWord(token, "AND")) throw this.#error("AND needs a clause on its left", token);
      items.push(this.#andChain());
    }
    if (items.length === 0) {
      const token = this.#peek();
      throw this.#error(`Expected a clause, found ${describe(token)}`, token);
    }
    if (items.length === 1 && items[0]!.occur !== "mustNot") return items[0]!.ast;
    const must = items.filter((item) => item.occur === "must").map((item) => item.ast);
    const should = items.filter((item) => item.occur === "should").map((item) => item.ast);
    const mustNot = items.filter((item) => item.occur === "mustNot").map((item) => item.ast);
    if (must.length === 0 && should.length === 0) {
      throw new QueryError(
        "A query of only excluding clauses matches nothing: add * to start from every document (e.g. `* -tag:draft`)",
        this.#query,
        position,
      );
    }
    return { type: "bool", must, should, mustNot, position };
  }

  #andChain(): { occur: Occur; ast: Ast } {
    const first = this.#clause();
    if (!this.#isWord(this.#peek(), "AND")) return first;
    const operands = [first];
    while (this.#isWord(this.#peek(), "AND")) {
      this.#next();
      const after = this.#peek();
      if (
        after.kind === "eof" || after.kind === ")" || this.#isWord(after, "AND") ||
        this.#isWord(after, "OR")
      ) {
        throw this.#error(`Expected a clause after AND, found ${describe(after)}`, after);
      }
      operands.push(this.#clause());
    }
    const must = operands.filter((o) => o.occur !== "mustNot").map((o) => o.ast);
    const mustNot = operands.filter((o) => o.occur === "mustNot").map((o) => o.ast);
    if (must.length === 0) {
      throw new QueryError(
        "An AND of only excluding clauses matches nothing: add * (e.g. `* AND -tag:draft`)",
        this.#query,
        first.ast.position,
      );
    }
    return {
      occur: "should",
      ast: { type: "bool", must, should: [], mustNot, position: first.ast.position },
    };
  }

  #clause(): { occur: Occur; ast: Ast } {
    let occur: Occur = "should";
    const token = this.#peek();
    if (token.kind === "+") {
      this.#next();
      occur = "must";
    } else if (token.kind === "-" || this.#isWord(token, "NOT")) {
      this.#next();
      occur = "mustNot";
    }
    if (occur !== "should") {
      const after = this.#peek();
      if (after.kind === "eof" || after.kind === ")" || after.kind === "+" || after.kind === "-") {
        throw this.#error(
          `Expected a clause after ${describe(token)}, found ${describe(after)}`,
          after,
        );
      }
    }
    let ast = this.#primary();
    if (this.#peek().kind === "^") {
      const caret = this.#next();
      const number = this.#peek();
      const factor = Number(number.text);
      if (number.kind !== "word" || !Number.isFinite(factor) || factor < 0) {
        throw this.#error(
          `Expected a non-negative boost after ^, found ${describe(number)}`,
          number,
        );
      }
      this.#next();
      ast = { type: "boost", child: ast, factor, position: caret.position };
    }
    return { occur, ast };
  }

  #primary(): Ast {
    const token = this.#peek();
    switch (token.kind) {
      case "(": {
        this.#next();
        if (++this.#depth > MAX_NESTING) {
          throw this.#error(`Nesting deeper than ${MAX_NESTING} levels`, token);
        }
        if (this.#peek().kind === ")") throw this.#error("Empty parentheses", this.#peek());
        const inner = this.#group();
        this.#expect(")", "')' to close the '(' at position " + (token.position + 1));
        this.#depth--;
        return inner;
      }
      case "quoted":
        return this.#phrase(undefined);
      case "word": {
        if (token.text === "*") {
          this.#next();
          return { type: "all", position: token.position };
        }
        if (this.#peek(1).kind === ":") {
          this.#next();
          this.#next();
          return this.#fieldValue({ name: token.text, position: token.position });
        }
        return this.#word(undefined);
      }
      default:
        throw this.#error(
          `Expected a term, field:value, "phrase", ( or *, found ${describe(token)}`,
          token,
        );
    }
  }

  #phrase(field: FieldRef | undefined): Ast {
    const token = this.#next();
    let slop = 0;
    if (this.#peek().kind === "~") {
      this.#next();
      const number = this.#peek();
      slop = Number(number.text);
      if (number.kind !== "word" || !Number.isInteger(slop) || slop < 0 || slop > 100) {
        throw this.#error(
          `Expected a phrase slop from 0 to 100 after ~, found ${describe(number)}`,
          number,
        );
      }
      this.#next();
    }
    return {
      type: "phrase",
      ...(field ? { field } : {}),
      text: token.text,
      slop,
      position: token.position,
    };
  }

  #word(field: FieldRef | undefined): Ast {
    const token = this.#next();
    const text = token.text;
    const star = text.indexOf("*");
    if (star >= 0 && star !== text.length - 1) {
      throw this.#error("A wildcard * is only allowed at the end of a term (prefix)", {
        ...token,
        position: token.position + star,
      });
    }
    if (star === text.length - 1) {
      if (this.#peek().kind === "~") {
        throw this.#error("A prefix cannot also be fuzzy", this.#peek());
      }
      return {
        type: "prefix",
        ...(field ? { field } : {}),
        text: text.slice(0, -1),
        position: token.position,
      };
    }
    if (this.#peek().kind === "~") {
      this.#next();
      let distance = 2;
      const number = this.#peek();
      if (number.kind === "word" && /^\d+$/.test(number.text)) {
        distance = Number(number.text);
        this.#next();
      }
      if (distance !== 1 && distance !== 2) {
        throw this.#error(`Fuzzy distance must be 1 or 2, got ${distance}`, number);
      }
      return {
        type: "fuzzy",
        ...(field ? { field } : {}),
        text,
        distance,
        position: token.position,
      };
    }
    return { type: "term", ...(field ? { field } : {}), text, position: token.position };
  }

  #fieldValue(field: FieldRef): Ast {
    const token = this.#peek();
    switch (token.kind) {
      case "quoted":
        return this.#phrase(field);
      case "word":
        if (token.text === "IN" && this.#peek(1).kind === "[") return this.#in(field);
        if (token.text === "*") {
          this.#next();
          return { type: "range", field, position: token.position };
        }
        return this.#word(field);
      case "[":
      case "{":
        return this.#range(field);
      case "cmp": {
        this.#next();
        const value = this.#peek();
        if (value.kind !== "word" && value.kind !== "quoted") {
          throw this.#error(
            `Expected a value after ${token.text}, found ${describe(value)}`,
            value,
          );
        }
        this.#next();
        const bound = { value: value.text, inclusive: token.text.endsWith("=") };
        return token.text.startsWith(">")
          ? { type: "range", field, lower: bound, position: token.position }
          : { type: "range", field, upper: bound, position: token.position };
      }
      case "(": {
        // field:(a b) applies the field to every term of the group.
        this.#next();
        const items: Ast[] = [];
        while (this.#peek().kind !== ")") {
          const inner = this.#peek();
          if (inner.kind === "quoted") items.push(this.#phrase(field));
          else if (inner.kind === "word" && !["AND", "OR", "NOT"].includes(inner.text)) {
            items.push(this.#word(field));
          } else {throw this.#error(
              `Expected a term in ${field.name}:( … ), found ${describe(inner)}`,
              inner,
            );}
        }
        this.#next();
        if (items.length === 0) throw this.#error("Empty parentheses", token);
        return items.length === 1
          ? items[0]!
          : { type: "bool", must: [], should: items, mustNot: [], position: token.position };
      }
      default:
        throw this.#error(
          `Expected a value for field "${field.name}", found ${describe(token)}`,
          token,
        );
    }
  }

  #range(field: FieldRef): Ast {
    const open = this.#next();
    const lower = this.#expectValue("a lower bound");
    if (!this.#isWord(this.#peek(), "TO")) {
      throw this.#error(`Expected TO in the range, found ${describe(this.#peek())}`, this.#peek());
    }
    this.#next();
    const upper = this.#expectValue("an upper bound");
    const close = this.#peek();
    if (close.kind !== "]" && close.kind !== "}") {
      throw this.#error(`Expected ] or } to close the range, found ${describe(close)}`, close);
    }
    this.#next();
    return {
      type: "range",
      field,
      ...(lower.text === "*" ? {} : { lower: { value: lower.text, inclusive: open.kind === "[" } }),
      ...(upper.text === "*"
        ? {}
        : { upper: { value: upper.text, inclusive: close.kind === "]" } }),
      position: open.position,
    };
  }

  #expectValue(what: string): Token {
    const token = this.#peek();
    if (token.kind !== "word" && token.kind !== "quoted") {
      throw this.#error(`Expected ${what}, found ${describe(token)}`, token);
    }
    return this.#next();
  }

  #in(field: FieldRef): Ast {
    const keyword = this.#next();
    this.#next(); // [
    const values: Array<{ text: string; position: number }> = [];
    while (this.#peek().kind === "word" || this.#peek().kind === "quoted") {
      const token = this.#next();
      values.push({ text: token.text, position: token.position });
    }
    this.#expect("]", "] to close IN [ … ]");
    if (values.length === 0) throw this.#error("IN [ ] needs at least one value", keyword);
    return { type: "in", field, values, position: keyword.position };
  }

  #modifiers(): Modifiers {
    const modifiers: Modifiers = {};
    while (this.#peek().kind === "word" && MODIFIERS.has(this.#peek().text)) {
      const keyword = this.#next();
      switch (keyword.text) {
        case "limit":
        case "offset": {
          const number = this.#peek();
          const value = Number(number.text);
          if (
            number.kind !== "word" || !/^\d+$/.test(number.text) || !Number.isSafeInteger(value)
          ) {
            throw this.#error(
              `Expected a non-negative integer after ${keyword.text}, found ${describe(number)}`,
              number,
            );
          }
          this.#next();
          modifiers[keyword.text] = value;
          break;
        }
        case "sort": {
          const field = this.#expect("word", "a field to sort by");
          let order: "asc" | "desc" = "asc";
          if (this.#peek().kind === ":") {
            this.#next();
            const direction = this.#peek();
            if (
              direction.kind !== "word" || (direction.text !== "asc" && direction.text !== "desc")
            ) {
              throw this.#error(`Expected asc or desc, found ${describe(direction)}`, direction);
            }
            order = direction.text;
            this.#next();
          }
          (modifiers.sort ??= []).push({ field: field.text, order, position: field.position });
          break;
        }
        case "return": {
          const list = this.#expect("word", "field names after return");
          modifiers.fields = list.text.split(",").filter((name) => name !== "");
          break;
        }
      }
    }
    return modifiers;
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "the end of the query";
    case "word":
      return `"${token.text}"`;
    case "quoted":
      return `the phrase "${token.text}"`;
    default:
      return `'${token.text}'`;
  }
}
