/**
 * Highlighting: the fragments of a hit's text fields with the query's matched terms marked,
 * returned as `_highlights` when a search asks `"highlight": {"fields": [...]}`. It runs on
 * the merged page only (the few hits returned), over the documents already read, so it costs
 * nothing per match. A word of the field is marked when, tokenized as the engines were fed
 * (`storage/tokenizer.ts`), one of its terms matches a positive leaf of the plan: a term or a
 * phrase's term exactly, a prefix by its start, a fuzzy term within its edit distance.
 *
 * Text is HTML-escaped by default (`"encoder": "html"`), so tags are the only markup in a
 * fragment; `"encoder": "none"` returns the text as stored.
 *
 * @module
 */

import { editDistance } from "../storage/edit_distance.ts";
import { InvalidInputError } from "../storage/errors.ts";
import { scalarOf, type Schema } from "../storage/schema.ts";
import type { Plan } from "../storage/search_index.ts";
import { tokenize } from "../storage/tokenizer.ts";

/** Default characters of one fragment. */
export const DEFAULT_FRAGMENT_CHARS = 150;
/** Most fragments returned per field. */
export const MAX_FRAGMENTS_PER_FIELD = 3;
/** Longest fragment accepted, in characters. */
export const MAX_FRAGMENT_CHARS = 10_000;
/** Most fields highlighted in one search. */
export const MAX_HIGHLIGHT_FIELDS = 32;
/** Longest tag accepted, in characters. */
const MAX_TAG_CHARS = 64;
/** A word of the original text: a run of letters, digits and their marks. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** A highlight request, checked against the schema. */
export interface CompiledHighlight {
  readonly fields: readonly string[];
  readonly preTag: string;
  readonly postTag: string;
  readonly fragmentChars: number;
  readonly html: boolean;
  /** What counts as a match, per field (`null`: the default text fields). */
  readonly matchers: readonly Matcher[];
}

/** A positive leaf of the plan: a test of a word's term, or of a whole exact value. */
interface Matcher {
  readonly field: string | null;
  readonly word?: (term: string) => boolean;
  readonly whole?: (value: string) => boolean;
}

function tag(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length > MAX_TAG_CHARS) {
    throw new InvalidInputError(
      `"highlight.${name}" must be a string of at most ${MAX_TAG_CHARS} characters`,
    );
  }
  return value;
}

/** Checks a request's `highlight` against the schema and collects the plan's matchers. */
export function compileHighlight(
  input: unknown,
  schema: Schema,
  plan: Plan,
): CompiledHighlight | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError(`"highlight" must be an object such as {"fields": ["title"]}`);
  }
  const { fields, pre_tag, post_tag, fragment_size, encoder, ...rest } = input as Record<
    string,
    unknown
  >;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new InvalidInputError(`Unknown highlight option "${unknown}"`);
  if (
    !Array.isArray(fields) || fields.length === 0 || fields.length > MAX_HIGHLIGHT_FIELDS ||
    !fields.every((f) => typeof f === "string")
  ) {
    throw new InvalidInputError(
      `"highlight.fields" is a list of 1 to ${MAX_HIGHLIGHT_FIELDS} field names`,
    );
  }
  for (const field of fields as string[]) {
    const def = Object.hasOwn(schema.fields, field) ? schema.fields[field] : undefined;
    if (def === undefined) throw new InvalidInputError(`Cannot highlight unknown field "${field}"`);
    if (!["text", "string"].includes(scalarOf(def.type))) {
      throw new InvalidInputError(
        `Cannot highlight field "${field}" (${def.type}): only text and string fields`,
      );
    }
  }
  const fragmentChars = fragment_size ?? DEFAULT_FRAGMENT_CHARS;
  if (
    typeof fragmentChars !== "number" || !Number.isSafeInteger(fragmentChars) ||
    fragmentChars < 1 ||
    fragmentChars > MAX_FRAGMENT_CHARS
  ) {
    throw new InvalidInputError(
      `"highlight.fragment_size" is an integer from 1 to ${MAX_FRAGMENT_CHARS}`,
    );
  }
  if (encoder !== undefined && encoder !== "html" && encoder !== "none") {
    throw new InvalidInputError(`"highlight.encoder" is "html" or "none"`);
  }
  return {
    fields: fields as string[],
    preTag: tag(pre_tag, "pre_tag", "<em>"),
    postTag: tag(post_tag, "post_tag", "</em>"),
    fragmentChars,
    html: encoder !== "none",
    matchers: matchersOf(plan, []),
  };
}

/** The positive text leaves of a plan as term tests (nothing under a `not`). */
function matchersOf(plan: Plan, out: Matcher[]): Matcher[] {
  switch (plan.kind) {
    case "and":
    case "or":
      for (const child of plan.children) matchersOf(child, out);
      break;
    case "boost":
      matchersOf(plan.child, out);
      break;
    case "rank":
      matchersOf(plan.match, out);
      for (const child of plan.optional) matchersOf(child, out);
      break;
    case "term":
      out.push({ field: plan.field, word: (term) => term === plan.term });
      break;
    case "phrase": {
      const terms = new Set(plan.terms);
      out.push({ field: plan.field, word: (term) => terms.has(term) });
      break;
    }
    case "prefix":
      out.push({ field: plan.field, word: (term) => term.startsWith(plan.prefix) });
      break;
    case "fuzzy":
      out.push({
        field: plan.field,
        word: (term) => editDistance(term, plan.term, plan.distance) <= plan.distance,
      });
      break;
    case "eq":
      if (typeof plan.value === "string") {
        const value = plan.value;
        out.push({ field: plan.field, whole: (whole) => whole === value });
      }
      break;
    default:
      break;
  }
  return out;
}

/** The `_highlights` of one document: marked fragments per field that has a match. */
export function highlightDoc(
  doc: Record<string, unknown>,
  highlight: CompiledHighlight,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const field of highlight.fields) {
    const tests = highlight.matchers.filter((m) => m.field === null || m.field === field);
    if (tests.length === 0) continue;
    const value = valueAt(doc, field);
    const texts = (Array.isArray(value) ? value : [value]).filter((v): v is string =>
      typeof v === "string"
    );
    const fragments = texts.flatMap((text) => fragmentsOf(text, tests, highlight))
      .slice(0, MAX_FRAGMENTS_PER_FIELD);
    if (fragments.length > 0) out[field] = fragments;
  }
  return out;
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The spans of `text` (start, end) whose words match, in order. */
function matchedSpans(text: string, tests: readonly Matcher[]): Array<[number, number]> {
  if (tests.some((test) => test.whole?.(text) === true)) return [[0, text.length]];
  const words = tests.flatMap((test) => test.word === undefined ? [] : [test.word]);
  const spans: Array<[number, number]> = [];
  for (const word of text.matchAll(WORD)) {
    if (tokenize(word[0]).some((term) => words.some((matches) => matches(term)))) {
      spans.push([word.index, word.index + word[0].length]);
    }
  }
  return spans;
}

/** Fragments of at most `fragmentChars` around the matched spans, marked. */
function fragmentsOf(
  text: string,
  tests: readonly Matcher[],
  highlight: CompiledHighlight,
): string[] {
  const spans = matchedSpans(text, tests);
  if (spans.length === 0) return [];
  const fragments: string[] = [];
  let next = 0;
  while (next < spans.length && fragments.length < MAX_FRAGMENTS_PER_FIELD) {
    const [first] = spans[next]!;
    const start = text.length <= highlight.fragmentChars ? 0 : Math.max(
      0,
      Math.min(
        first - Math.floor(highlight.fragmentChars / 4),
        text.length - highlight.fragmentChars,
      ),
    );
    const end = Math.min(text.length, start + highlight.fragmentChars);
    let out = "";
    let at = start;
    while (next < spans.length && spans[next]![1] <= end) {
      const [from, to] = spans[next++]!;
      out += encode(text.slice(at, from), highlight) + highlight.preTag +
        encode(text.slice(from, to), highlight) + highlight.postTag;
      at = to;
    }
    if (at === start) next++; // a word longer than the fragment: skip it
    else fragments.push(out + encode(text.slice(at, end), highlight));
  }
  return fragments;
}

function encode(text: string, highlight: CompiledHighlight): string {
  if (!highlight.html) return text;
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}
