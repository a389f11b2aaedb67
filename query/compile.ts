/**
 * From a parsed query and an index's schema to an engine-neutral plan, checking every
 * clause: an unknown field, a value its type cannot hold, a malformed range, a prefix on a
 * number… is a `QueryError` naming the field, the expected type and the position. No
 * clause is dropped silently.
 *
 * How a `field:value` is read, by the field's type:
 *
 * | type | `field:value` | ranges, comparisons | prefix, fuzzy |
 * | --- | --- | --- | --- |
 * | text | its terms (several terms: a phrase) | refused | yes |
 * | string | the exact value | on strings | prefix only |
 * | i64, f64 | the number | yes | refused |
 * | boolean | `true` / `false` | refused | refused |
 * | date | the day, month or year written (`2024`, `2024-06`, `2024-06-01`), or the instant | yes | refused |
 * | json | refused: query a path such as `author.name` | | |
 *
 * `id:value` matches document ids (`id` is never a field name). Bare terms search every
 * text field. Field names are looked up as own properties only, so `constructor:x` is an
 * unknown field, not `Object.prototype.constructor`.
 *
 * @module
 */

import {
  fieldDef,
  isArrayType,
  parseDate,
  scalarOf,
  type ScalarType,
  type Schema,
} from "../storage/schema.ts";
import type { Plan, PlanValue, SortSpec } from "../storage/search_index.ts";
import { normalize, tokenize } from "../storage/tokenizer.ts";
import { QueryError } from "./errors.ts";
import type { Ast, Bound, FieldRef, ParsedQuery } from "./parser.ts";

/** The special field that matches document ids. */
export const ID_FIELD = "id";

/** Turns a parsed query into a plan for `schema`; `query` is for error messages. */
export function compilePlan(parsed: ParsedQuery, schema: Schema, query: string): Plan {
  return new Compiler(schema, query).compile(parsed.ast);
}

/** Checks sort keys against the schema. */
export function checkSort(
  sort: ReadonlyArray<{ field: string; order: string; position?: number }>,
  schema: Schema,
  query: string,
): SortSpec[] {
  return sort.map(({ field, order, position }) => {
    const def = fieldDef(schema, field);
    const fail = (message: string) => new QueryError(message, query, position ?? query.length);
    if (def === undefined) throw fail(`Cannot sort by unknown field "${field}"${known(schema)}`);
    if (order !== "asc" && order !== "desc") {
      throw fail(`Sort order must be asc or desc, got "${order}"`);
    }
    const scalar = scalarOf(def.type);
    if (scalar === "text" || scalar === "json" || isArrayType(def.type)) {
      throw fail(
        `Cannot sort by "${field}" (${def.type}): sort needs a string, number, date or boolean field`,
      );
    }
    return { field, order };
  });
}

/** Checks the fields a query returns. */
export function checkReturnFields(
  fields: readonly string[],
  schema: Schema,
  query: string,
): string[] {
  for (const field of fields) {
    if (field !== ID_FIELD && fieldDef(schema, field) === undefined) {
      throw new QueryError(
        `Cannot return unknown field "${field}"${known(schema)}`,
        query,
        query.length,
      );
    }
  }
  return [...fields];
}

function known(schema: Schema): string {
  const names = Object.keys(schema.fields).sort();
  if (names.length === 0) return " (the index has no fields yet)";
  const shown = names.slice(0, 20).join(", ");
  return ` (known fields: ${shown}${names.length > 20 ? ", …" : ""})`;
}

class Compiler {
  #schema: Schema;
  #query: string;
  #hasText: boolean;

  constructor(schema: Schema, query: string) {
    this.#schema = schema;
    this.#query = query;
    this.#hasText = Object.values(schema.fields).some((def) => scalarOf(def.type) === "text");
  }

  #error(message: string, position: number): QueryError {
    return new QueryError(message, this.#query, position);
  }

  compile(ast: Ast): Plan {
    switch (ast.type) {
      case "all":
        return { kind: "all" };
      case "bool":
        return this.#bool(ast);
      case "boost":
        return { kind: "boost", child: this.compile(ast.child), factor: ast.factor };
      case "term":
      case "phrase":
      case "prefix":
      case "fuzzy":
        return ast.field === undefined ? this.#bare(ast) : this.#fielded(ast, ast.field);
      case "range":
        return this.#range(ast.field, ast.lower, ast.upper, ast.position);
      case "in": {
        const children = ast.values.map((value) =>
          this.#fielded({ type: "term", text: value.text, position: value.position }, ast.field)
        );
        return children.length === 1 ? children[0]! : { kind: "or", children };
      }
    }
  }

  #bool(ast: Extract<Ast, { type: "bool" }>): Plan {
    const must = ast.must.map((child) => this.compile(child));
    const should = ast.should.map((child) => this.compile(child));
    const mustNot = ast.mustNot.map((child) => this.compile(child));
    const excluded: Plan[] = mustNot.length === 0 ? [] : [{
      kind: "not",
      child: mustNot.length === 1 ? mustNot[0]! : { kind: "or", children: mustNot },
    }];
    if (must.length > 0) {
      const match: Plan = must.length + excluded.length === 1
        ? must[0]!
        : { kind: "and", children: [...must, ...excluded] };
      return should.length === 0 ? match : { kind: "rank", match, optional: should };
    }
    const any: Plan = should.length === 1 ? should[0]! : { kind: "or", children: should };
    return excluded.length === 0 ? any : { kind: "and", children: [any, ...excluded] };
  }

  /** A term, phrase, prefix or fuzzy term without a field: every text field. */
  #bare(ast: Extract<Ast, { type: "term" | "phrase" | "prefix" | "fuzzy" }>): Plan {
    if (!this.#hasText) return { kind: "none" };
    return this.#text(ast, null);
  }

  #text(
    ast: Extract<Ast, { type: "term" | "phrase" | "prefix" | "fuzzy" }>,
    field: string | null,
  ): Plan {
    const where = field === null ? "" : ` for field "${field}"`;
    switch (ast.type) {
      case "term":
      case "phrase": {
        const terms = tokenize(ast.text);
        if (terms.length === 0) {
          throw this.#error(
            `"${ast.text}" has no letters or digits to search${where}`,
            ast.position,
          );
        }
        if (terms.length === 1) return { kind: "term", field, term: terms[0]! };
        return { kind: "phrase", field, terms, slop: ast.type === "phrase" ? ast.slop : 0 };
      }
      case "prefix": {
        const prefix = normalize(ast.text);
        if (tokenize(ast.text).length !== 1 || tokenize(ast.text)[0] !== prefix) {
          throw this.#error(
            `A prefix must be one term of letters or digits, got "${ast.text}*"${where}`,
            ast.position,
          );
        }
        return { kind: "prefix", field, prefix };
      }
      case "fuzzy": {
        const terms = tokenize(ast.text);
        if (terms.length !== 1) {
          throw this.#error(
            `A fuzzy term must be one term of letters or digits, got "${ast.text}"${where}`,
            ast.position,
          );
        }
        return { kind: "fuzzy", field, term: terms[0]!, distance: ast.distance };
      }
    }
  }

  #lookup(field: FieldRef): ScalarType | "id" {
    // `id` is reserved as a field name (storage/schema.ts), so `id:` always means the id.
    if (field.name === ID_FIELD) return "id";
    const def = fieldDef(this.#schema, field.name);
    if (def === undefined) {
      throw this.#error(`Unknown field "${field.name}"${known(this.#schema)}`, field.position);
    }
    const scalar = scalarOf(def.type);
    if (scalar === "json") {
      throw this.#error(
        `Field "${field.name}" is json: query one of its paths, such as ${field.name}.name`,
        field.position,
      );
    }
    return scalar;
  }

  #fielded(
    ast: Extract<Ast, { type: "term" | "phrase" | "prefix" | "fuzzy" }>,
    field: FieldRef,
  ): Plan {
    const type = this.#lookup(field);
    const name = field.name;
    if (type === "text") return this.#text(ast, name);
    if (ast.type === "fuzzy") {
      throw this.#error(`Field "${name}" is ${type}: fuzzy terms need a text field`, ast.position);
    }
    if (ast.type === "prefix") {
      if (type === "string") {
        return { kind: "range", field: name, gte: ast.text, lt: `${ast.text}\uffff` };
      }
      if (type === "id") return { kind: "ids", ids: [] };
      throw this.#error(
        `Field "${name}" is ${type}: a prefix needs a text or string field`,
        ast.position,
      );
    }
    if (ast.type === "phrase" && ast.slop > 0) {
      throw this.#error(
        `Field "${name}" is ${type}: a phrase slop needs a text field`,
        ast.position,
      );
    }
    switch (type) {
      case "id":
        return { kind: "ids", ids: [ast.text] };
      case "string":
        return { kind: "eq", field: name, value: ast.text };
      case "date": {
        const span = this.#dateSpan(name, ast.text, ast.position);
        return span.exact
          ? { kind: "eq", field: name, value: span.start }
          : { kind: "range", field: name, gte: span.start, lt: span.end };
      }
      default:
        return { kind: "eq", field: name, value: this.#value(name, type, ast.text, ast.position) };
    }
  }

  #value(field: string, type: ScalarType, text: string, position: number): PlanValue {
    switch (type) {
      case "i64": {
        const value = Number(text);
        if (text.trim() === "" || !Number.isSafeInteger(value)) {
          throw this.#error(`Field "${field}" expects i64, got "${text}"`, position);
        }
        return value;
      }
      case "f64": {
        const value = Number(text);
        if (text.trim() === "" || !Number.isFinite(value)) {
          throw this.#error(`Field "${field}" expects f64, got "${text}"`, position);
        }
        return value;
      }
      case "boolean":
        if (text !== "true" && text !== "false") {
          throw this.#error(
            `Field "${field}" expects boolean (true or false), got "${text}"`,
            position,
          );
        }
        return text === "true";
      case "date": {
        const value = parseDate(text);
        if (value === undefined) {
          throw this.#error(
            `Field "${field}" expects a date (such as 2024, 2024-06-01 or 2024-06-01T10:00:00Z), got "${text}"`,
            position,
          );
        }
        return value;
      }
      default:
        return text;
    }
  }

  /** The period a written date covers: a year, a month, a day, or one instant. */
  #dateSpan(
    field: string,
    text: string,
    position: number,
  ): { start: number; end: number; exact: boolean } {
    const start = this.#value(field, "date", text, position) as number;
    const date = new Date(start);
    if (/^\d{4}$/.test(text)) {
      return { start, end: Date.UTC(date.getUTCFullYear() + 1, 0, 1), exact: false };
    }
    if (/^\d{4}-\d{2}$/.test(text)) {
      return {
        start,
        end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
        exact: false,
      };
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return { start, end: start + 86_400_000, exact: false };
    return { start, end: start, exact: true };
  }

  #range(
    field: FieldRef,
    lower: Bound | undefined,
    upper: Bound | undefined,
    position: number,
  ): Plan {
    const type = this.#lookup(field);
    const name = field.name;
    if (type === "text" || type === "boolean" || type === "id") {
      throw this.#error(
        `Field "${name}" is ${type}: ranges and comparisons need a number, date or string field`,
        position,
      );
    }
    const plan: { gt?: PlanValue; gte?: PlanValue; lt?: PlanValue; lte?: PlanValue } = {};
    if (lower !== undefined) {
      if (type === "date") {
        const span = this.#dateSpan(name, lower.value, position);
        if (lower.inclusive) plan.gte = span.start;
        else if (span.exact) plan.gt = span.start;
        else plan.gte = span.end;
      } else {
        plan[lower.inclusive ? "gte" : "gt"] = this.#value(name, type, lower.value, position);
      }
    }
    if (upper !== undefined) {
      if (type === "date") {
        const span = this.#dateSpan(name, upper.value, position);
        if (!upper.inclusive) plan.lt = span.start;
        else if (span.exact) plan.lte = span.start;
        else plan.lt = span.end;
      } else {
        plan[upper.inclusive ? "lte" : "lt"] = this.#value(name, type, upper.value, position);
      }
    }
    const low = plan.gte ?? plan.gt;
    const high = plan.lte ?? plan.lt;
    if (low !== undefined && high !== undefined && low > high) {
      throw this.#error(
        `Malformed range for field "${name}": the lower bound is above the upper bound`,
        position,
      );
    }
    return { kind: "range", field: name, ...plan };
  }
}
